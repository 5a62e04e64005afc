"""Tickets: opened at handoff, one active per conversation, every change in their history."""

from __future__ import annotations

from typing import Any

from bot.types import TicketPriority, TicketRequest, TicketStatus, TicketView
from storage import models
from storage.views import ticket_view

ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER)
SUBJECT_CHARS = 200


async def active_ticket(conversation_id: int) -> models.Ticket | None:
    return await models.Ticket.filter(
        conversation_id=conversation_id, status__in=ACTIVE_STATUSES
    ).first()


async def open_or_raise_ticket(
    conversation: models.Conversation, request: TicketRequest, *, subject: str = ""
) -> tuple[models.Ticket, bool]:
    """Open the conversation's ticket, or raise the priority of the one already open.

    Returns the ticket and whether it is new. Call inside the turn's transaction so the
    ticket and the customer's notice land together.
    """
    ticket = await active_ticket(conversation.id)
    if ticket is None:
        ticket = await models.Ticket.create(
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,  # type: ignore[attr-defined]
            priority=request.priority,
            category=request.category,
            subject=(subject or request.subject or request.reason)[:SUBJECT_CHARS],
        )
        await record_event(ticket.id, "opened", reason=request.reason, priority=request.priority)
        return ticket, True
    if request.priority.rank > TicketPriority(ticket.priority).rank:
        await record_event(
            ticket.id, "priority", old=ticket.priority, new=request.priority, reason=request.reason
        )
        ticket.priority = request.priority
        await ticket.save(update_fields=["priority"])
    return ticket, False


async def record_event(
    ticket_id: int, kind: str, *, actor_id: int | None = None, **detail: Any
) -> None:
    await models.TicketEvent.create(
        ticket_id=ticket_id,
        kind=kind,
        actor_id=actor_id,
        detail={key: str(value) for key, value in detail.items()},
    )


async def load_ticket(ticket_id: int) -> TicketView | None:
    row = await models.Ticket.get_or_none(id=ticket_id)
    return None if row is None else ticket_view(row)


async def list_tickets(*, active_only: bool = True, limit: int = 50) -> list[TicketView]:
    query = models.Ticket.all()
    if active_only:
        query = query.filter(status__in=ACTIVE_STATUSES)
    rows = await query.order_by("-id").limit(limit)
    return [ticket_view(row) for row in rows]
