"""Commands that work on one ticket: in its topic, or anywhere with `#N`."""

from __future__ import annotations

from enum import StrEnum

from admin_commands.registry import AgentRef, CommandContext, Text, TicketRef, command
from bot.desk import AiScope
from bot.errors import CommandError
from bot.types import Role, TicketPriority, TicketStatus, TicketView


class Toggle(StrEnum):
    ON = "on"
    OFF = "off"


class SettableStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"


def describe(ticket: TicketView) -> str:
    return f"#{ticket.number} ({ticket.status.value}, {ticket.priority.value})"


@command("assign", role=Role.AGENT, aliases=("take",))
async def assign(ctx: CommandContext, agent: AgentRef, ticket: TicketRef | None = None) -> str:
    """Assign a ticket to an agent: `me`, `@username` or an agent id.

    The conversation is then with a person: the bot stays quiet until the ticket closes
    (or `/ai on`). The customer is told who helps them when the service is set to.
    """
    target = await ctx.ticket(ticket)
    person = await ctx.resolve_agent(agent)
    updated = await ctx.service.assign(target, person, by=ctx.agent)
    away = "" if person.online else f" {person.mention} is away at the moment."
    return f"{describe(updated)} is now assigned to {person.mention}.{away}"


@command("unassign", role=Role.AGENT)
async def unassign(ctx: CommandContext, ticket: TicketRef | None = None) -> str:
    """Take the assignee off a ticket; it waits for an agent again."""
    updated = await ctx.service.unassign(await ctx.ticket(ticket), by=ctx.agent)
    return f"{describe(updated)} has no assignee now."


@command("close", role=Role.AGENT, aliases=("done",))
async def close(
    ctx: CommandContext, ticket: TicketRef | None = None, resolution: Text | None = None
) -> str:
    """Close a ticket, optionally with the resolution; the customer is asked for a rating.

    The conversation goes back to the bot, and the topic is closed until the customer
    needs a person again.
    """
    updated = await ctx.service.close(
        await ctx.ticket(ticket), resolution=str(resolution) if resolution else None, by=ctx.agent
    )
    return f"{describe(updated)} closed."


@command("reopen", role=Role.AGENT)
async def reopen(ctx: CommandContext, ticket: TicketRef | None = None) -> str:
    """Reopen a closed, resolved or cancelled ticket."""
    updated = await ctx.service.reopen(await ctx.ticket(ticket), by=ctx.agent)
    return f"{describe(updated)} reopened."


@command("cancel", role=Role.AGENT)
async def cancel(ctx: CommandContext, ticket: TicketRef | None = None) -> str:
    """Cancel a ticket opened by mistake (no rating question, not counted as resolved)."""
    updated = await ctx.service.cancel(await ctx.ticket(ticket), by=ctx.agent)
    return f"{describe(updated)} cancelled."


@command("status", role=Role.AGENT)
async def status(
    ctx: CommandContext, state: SettableStatus, ticket: TicketRef | None = None
) -> str:
    """Set a ticket's status: open, in_progress, waiting_customer or resolved."""
    updated = await ctx.service.set_status(
        await ctx.ticket(ticket), TicketStatus(state.value), by=ctx.agent
    )
    return f"{describe(updated)} updated."


@command("priority", role=Role.AGENT, aliases=("prio",))
async def priority(
    ctx: CommandContext, level: TicketPriority, ticket: TicketRef | None = None
) -> str:
    """Set a ticket's priority: low, normal, high or urgent."""
    updated = await ctx.service.set_priority(await ctx.ticket(ticket), level, by=ctx.agent)
    return f"{describe(updated)} updated."


@command("ai", role=Role.AGENT)
async def ai(
    ctx: CommandContext,
    state: Toggle,
    scope: AiScope = AiScope.CONVERSATION,
    ticket: TicketRef | None = None,
) -> str:
    """Switch automatic answers on or off: `/ai on|off [conversation|customer|all]`.

    `conversation` (the default) is this ticket's conversation; `on` lets the bot answer
    again while the ticket stays open. `customer` covers every conversation of the
    customer. `all` is the whole service and needs an admin.
    """
    if scope is AiScope.ALL:
        if ctx.agent.role is not Role.ADMIN:
            raise CommandError("/ai … all is for admins only.")
        return await ctx.service.set_ai(scope, state is Toggle.ON, ticket=None, by=ctx.agent)
    target = await ctx.ticket(ticket)
    return await ctx.service.set_ai(scope, state is Toggle.ON, ticket=target, by=ctx.agent)


@command("note", role=Role.AGENT)
async def note(ctx: CommandContext, text: Text, ticket: TicketRef | None = None) -> str:
    """Add an internal note to the ticket; the customer never sees it."""
    updated = await ctx.service.note(await ctx.ticket(ticket), str(text), by=ctx.agent)
    return f"Note added to #{updated.number}."
