"""Looking things up: ticket lists, one ticket with its history, the customer's card, tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from admin_commands.formatting import age, day, duration, moment, person, preview, ticket_line
from admin_commands.registry import AgentRef, Argument, CommandContext, TicketRef, choose, command
from bot.desk import HistoryEntry, TicketDetails, TicketQuery, TicketScope
from bot.errors import CommandError
from bot.types import Role

LIST_LIMIT = 30
HISTORY_LIMIT = 10
PROFILE_TICKETS = 8


class ListScope(StrEnum):
    OPEN = "open"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    URGENT = "urgent"


class TicketFilter(Argument):
    """`open`, `mine`, `unassigned`, `urgent`, or `@username` for one agent's tickets."""

    shown = "open|mine|unassigned|urgent|@agent"

    def __init__(self, scope: TicketScope, agent: AgentRef | None = None) -> None:
        self.scope = scope
        self.agent = agent

    @classmethod
    def parse(cls, token: str) -> TicketFilter:
        if token.startswith("@") and len(token) > 1:
            return cls(TicketScope.AGENT, AgentRef(token))
        return cls(TicketScope(choose(ListScope, token, "filter").value))


class TagAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"


_TITLES = {
    TicketScope.OPEN: "Open tickets",
    TicketScope.MINE: "Your tickets",
    TicketScope.UNASSIGNED: "Unassigned tickets",
    TicketScope.URGENT: "Urgent tickets",
}


@command("tickets", role=Role.AGENT, aliases=("list",))
async def tickets(ctx: CommandContext, which: TicketFilter | None = None) -> str:
    """List active tickets, most urgent first: open, mine, unassigned, urgent or @agent.

    `open` (the default) is every ticket not resolved, closed or cancelled; `@username`
    lists one agent's. Each line shows the number, priority, status, assignee, customer,
    age and subject.
    """
    which = which or TicketFilter(TicketScope.OPEN)
    query = TicketQuery(which.scope, limit=LIST_LIMIT)
    title = _TITLES.get(which.scope, "")
    if which.scope is TicketScope.MINE:
        query = TicketQuery(which.scope, agent_id=ctx.agent.id, limit=LIST_LIMIT)
    elif which.agent is not None:
        agent = await ctx.resolve_agent(which.agent)
        query = TicketQuery(which.scope, agent_id=agent.id, limit=LIST_LIMIT)
        title = f"Tickets of {person(agent)}"
    page = await ctx.service.reports.tickets(query)
    if not page.lines:
        return f"{title}: none."
    now = datetime.now(UTC)
    lines = [f"{title}: {page.total}"]
    lines.extend(ticket_line(line, now) for line in page.lines)
    if page.total > len(page.lines):
        lines.append(f"…and {page.total - len(page.lines)} more.")
    return "\n".join(lines)


@command("ticket", role=Role.AGENT, aliases=("show",))
async def ticket_card(ctx: CommandContext, ticket: TicketRef | None = None) -> str:
    """Show a ticket: customer, assignee, times, resolution, rating and its latest history."""
    number = (await ctx.ticket(ticket)).number
    details = await ctx.service.reports.ticket_details(number, history=HISTORY_LIMIT)
    if details is None:
        raise CommandError(f"There is no ticket #{number}.")
    usage = await ctx.service.reports.usage(ticket_id=number)
    card = _card(details)
    if usage.model_calls:
        cost = f"${usage.cost_usd:.4f}" if usage.cost_usd is not None else "cost unknown"
        card += (
            f"\nAI on this ticket: {usage.input_tokens:,} tokens in, "
            f"{usage.output_tokens:,} out, {cost}"
        )
    return card


def _card(details: TicketDetails) -> str:
    line, ticket = details.line, details.line.ticket
    now = datetime.now(UTC)
    lines = [
        f"Ticket #{ticket.number} · {ticket.status.value} · {ticket.priority.value} priority",
        f"Customer: {line.customer_name or 'Customer'} ({line.channel.value})",
        f"Assignee: {person(line.assignee)}",
    ]
    if ticket.subject:
        lines.append(f"Subject: {preview(ticket.subject, 200)}")
    opened = f"Opened {moment(ticket.opened_at)} ({age(ticket.opened_at, now)} ago)"
    if ticket.first_response_at is not None:
        delay = (ticket.first_response_at - ticket.opened_at).total_seconds()
        opened += f" · first answer after {duration(delay)}"
    if ticket.resolved_at is not None:
        opened += f" · resolved {moment(ticket.resolved_at)}"
    lines.append(opened)
    facts = [f"Automation: {ticket.automation_level.value}"]
    if ticket.category:
        facts.append(f"category {ticket.category}")
    if ticket.satisfaction is not None:
        facts.append(f"rated {ticket.satisfaction}/5")
    lines.append(" · ".join(facts))
    if ticket.resolution:
        lines.append(f"Resolution: {preview(ticket.resolution, 300)}")
    shown = len(details.history)
    if shown:
        total = details.history_total
        more = f" (latest {shown} of {total})" if total > shown else ""
        lines.append(f"History{more}:")
        lines.extend(_history_line(entry) for entry in details.history)
    return "\n".join(lines)


def _history_line(entry: HistoryEntry) -> str:
    who = f"{entry.actor.mention}: " if entry.actor else ""
    return f"{entry.at.astimezone(UTC):%m-%d %H:%M} {who}{_what(entry.kind, entry.detail, entry)}"


def _what(kind: str, detail: Mapping[str, str], entry: HistoryEntry) -> str:
    if "summary" in detail:
        return preview(detail["summary"], 200)
    if kind == "opened":
        return f"opened ({detail.get('reason', 'handoff')})"
    if kind == "assigned":
        taken = entry.actor is not None and detail.get("assignee") == str(entry.actor.id)
        return "took the ticket" if taken else f"assigned to agent {detail.get('assignee')}"
    if kind == "priority":
        old = detail.get("old", detail.get("old_priority"))
        new = detail.get("new", detail.get("priority"))
        reason = f" ({detail['reason']})" if "reason" in detail else ""
        return f"priority {old} → {new}{reason}"
    if kind == "rated":
        return f"customer rated {detail.get('score')}/5"
    if kind == "note":
        return f"note: {preview(detail.get('note', ''), 200)}"
    if kind == "confirmed":
        return "customer confirmed the answer solved it"
    extra = ", ".join(f"{key} {value}" for key, value in detail.items())
    return f"{kind} {extra}".strip()


@command("profile", role=Role.AGENT, aliases=("customer",))
async def profile(ctx: CommandContext, ticket: TicketRef | None = None) -> str:
    """Show the customer's card: name, channels, language, tags, past tickets, satisfaction."""
    target = await ctx.ticket(ticket)
    card = await ctx.service.reports.customer_profile(target.customer_id, tickets=PROFILE_TICKETS)
    customer = card.customer
    channels = ", ".join(
        f"{link.channel.value} ({link.display_name or link.external_user_id})"
        for link in card.channels
    )
    lines = [
        f"{customer.name or 'Customer'} · customer {customer.id} · since {day(card.first_seen)}",
        f"Channels: {channels or 'none'}",
        f"Language: {customer.language or 'unknown'} · AI replies: "
        + ("on" if customer.ai_enabled else "off"),
        f"Tags: {', '.join(customer.tags) if customer.tags else 'none'}",
    ]
    if customer.notes:
        lines.append(f"Notes: {preview(customer.notes, 300)}")
    if card.satisfaction is not None:
        lines.append(f"Satisfaction: {card.satisfaction:.1f} from {card.ratings} ratings")
    else:
        lines.append("Satisfaction: no ratings yet")
    lines.append(f"Tickets: {card.ticket_count}")
    for past in card.tickets:
        rating = f" · rated {past.satisfaction}" if past.satisfaction is not None else ""
        subject = f" · {preview(past.subject)}" if past.subject else ""
        lines.append(f"#{past.number} {past.status.value}{rating} · {day(past.opened_at)}{subject}")
    if card.ticket_count > len(card.tickets):
        lines.append(f"…and {card.ticket_count - len(card.tickets)} older.")
    return "\n".join(lines)


@command("tag", role=Role.AGENT)
async def tag(
    ctx: CommandContext, action: TagAction, name: str, ticket: TicketRef | None = None
) -> str:
    """Tag the customer, or remove a tag: `/tag add vip`, `/tag remove vip`.

    Tags belong to the customer (they show on /profile); the change is recorded in the
    history of the ticket it was made from.
    """
    target = await ctx.ticket(ticket)
    added = action is TagAction.ADD
    stored = await ctx.service.tag(target, name, add=added, by=ctx.agent)
    done = "added to" if added else "removed from"
    return f"Tag {stored} {done} the customer of #{target.number}."
