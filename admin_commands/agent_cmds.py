"""Who is working: `/online`, `/away` and the list of agents."""

from __future__ import annotations

from admin_commands.registry import CommandContext, command
from bot.desk import TicketQuery, TicketScope
from bot.types import Role


@command("online", role=Role.AGENT, aliases=("back",))
async def online(ctx: CommandContext) -> str:
    """Mark yourself online (available for tickets)."""
    if ctx.agent.online:
        return "You are online already."
    await ctx.service.set_online(ctx.agent, True)
    return "You are online again."


@command("away", role=Role.AGENT)
async def away(ctx: CommandContext) -> str:
    """Mark yourself away; your tickets stay yours, and /agents shows you as away."""
    if not ctx.agent.online:
        return "You are away already; /online when you are back."
    await ctx.service.set_online(ctx.agent, False)
    page = await ctx.service.reports.tickets(
        TicketQuery(TicketScope.MINE, agent_id=ctx.agent.id, limit=10)
    )
    if not page.total:
        return "You are away now; /online when you are back."
    numbers = ", ".join(f"#{line.ticket.number}" for line in page.lines)
    more = f" and {page.total - len(page.lines)} more" if page.total > len(page.lines) else ""
    return (
        f"You are away now; {numbers}{more} stay assigned to you "
        "(/unassign #N hands one back). /online when you are back."
    )


@command("agents", role=Role.AGENT, aliases=("team",))
async def agents(ctx: CommandContext) -> str:
    """List the agents: who is online or away, their role and their active tickets."""
    everyone = await ctx.service.store.agents()
    if not everyone:
        return "No agents yet: agents appear when they first write in the agents' chat."
    load = await ctx.service.reports.workload()
    present = sum(agent.online for agent in everyone)
    lines = [f"Agents: {len(everyone)}, {present} online"]
    for agent in sorted(everyone, key=lambda a: (not a.online, a.display_name.lower())):
        handle = f" (@{agent.username})" if agent.username else ""
        mark = "🟢 online" if agent.online else "⚪ away"
        count = load.get(agent.id, 0)
        tickets = f"{count} active ticket" + ("" if count == 1 else "s")
        lines.append(f"{mark} · {agent.display_name}{handle} · {agent.role.value} · {tickets}")
    return "\n".join(lines)
