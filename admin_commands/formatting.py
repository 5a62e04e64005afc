"""How command answers show times, durations, tickets and people: short and plain text."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.desk import AgentView, TicketLine
from bot.types import TicketView

PREVIEW_CHARS = 60


def duration(seconds: float) -> str:
    """`45s`, `12m`, `3h 05m`, `2d 4h`: two units at most."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, _ = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def moment(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def age(at: datetime, now: datetime) -> str:
    return duration((now - at).total_seconds())


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def person(agent: AgentView | None) -> str:
    if agent is None:
        return "unassigned"
    return agent.mention + ("" if agent.online else " (away)")


def state(ticket: TicketView) -> str:
    return f"{ticket.status.value}, {ticket.priority.value}"


def ticket_line(line: TicketLine, now: datetime) -> str:
    """`#4 urgent · open · unassigned · Anna (telegram) · 2h 10m · Where is my order?`"""
    ticket = line.ticket
    parts = [
        f"#{ticket.number} {ticket.priority.value}",
        ticket.status.value,
        person(line.assignee),
        f"{line.customer_name or 'Customer'} ({line.channel.value})",
        age(ticket.opened_at, now),
    ]
    if ticket.subject:
        parts.append(preview(ticket.subject))
    return " · ".join(parts)
