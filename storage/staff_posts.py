"""Reading staff deliveries back as `StaffPost`s: what the desk needs to show one item.

A post carries who the customer is, the conversation's channel and ticket, and for a
handoff the latest messages, so the desk can render it without asking storage again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from bot.types import (
    Attachment,
    ChannelKind,
    Direction,
    MessageStatus,
    MessageView,
    SenderKind,
    StaffEvent,
    StaffPost,
    StaffPostKind,
    TicketView,
)
from storage import models, sql
from storage.views import attachment_view, buttons_from_json, message_view, ticket_view

HANDOFF_RECENT_MESSAGES = 10

STAFF_POSTS = """
SELECT d.id AS delivery_id, d.attempts, d.parts_sent, m.id AS message_id, m.direction,
    m.sender_kind, m.author_name, m.text, m.private, m.event, m.buttons, m.language, m.ticket_id,
    m.status, m.translation,
    m.conversation_id, c.customer_id, u.name AS customer_name, i.display_name, i.channel
FROM delivery d
JOIN message m ON m.id = d.message_id
JOIN conversation c ON c.id = m.conversation_id
JOIN customer u ON u.id = c.customer_id
JOIN channel_identity i ON i.id = c.identity_id
WHERE d.target = 'staff' AND d.id IN ({ids})
ORDER BY d.id
"""


async def load_staff_posts(delivery_ids: list[int]) -> list[StaffPost]:
    if not delivery_ids:
        return []
    placeholders = ", ".join("?" for _ in delivery_ids)
    [rows] = await sql.run((STAFF_POSTS.format(ids=placeholders), tuple(delivery_ids)))
    tickets = await _tickets({row["ticket_id"] for row in rows if row["ticket_id"]})
    attachments = await _attachments([int(row["message_id"]) for row in rows])
    posts = []
    for row in rows:
        event = StaffEvent(row["event"]) if row["event"] else None
        recent: tuple[MessageView, ...] = ()
        if event is StaffEvent.HANDOFF:
            recent = await _recent(int(row["conversation_id"]), int(row["message_id"]))
        posts.append(
            _post(
                row,
                ticket=tickets.get(row["ticket_id"]),
                attachments=attachments.get(int(row["message_id"]), ()),
                recent=recent,
            )
        )
    return posts


def _post(
    row: dict[str, Any],
    *,
    ticket: TicketView | None,
    attachments: tuple[Attachment, ...],
    recent: tuple[MessageView, ...],
) -> StaffPost:
    raw_buttons = row["buttons"]
    if isinstance(raw_buttons, str):
        raw_buttons = json.loads(raw_buttons)
    return StaffPost(
        delivery_id=int(row["delivery_id"]),
        message_id=int(row["message_id"]),
        customer_id=int(row["customer_id"]),
        conversation_id=int(row["conversation_id"]),
        customer_name=row["customer_name"] or row["display_name"],
        channel=ChannelKind(row["channel"]),
        kind=_kind(row),
        text=row["text"],
        ticket=ticket,
        event=StaffEvent(row["event"]) if row["event"] else None,
        author_name=row["author_name"],
        language=row["language"],
        attachments=attachments,
        buttons=buttons_from_json(raw_buttons),
        recent=recent,
        attempts=int(row["attempts"]),
        translation=row["translation"],
        parts_sent=int(row["parts_sent"]),
    )


def _kind(row: dict[str, Any]) -> StaffPostKind:
    direction = Direction(row["direction"])
    if row["event"] == StaffEvent.EDITED.value:
        return StaffPostKind.CUSTOMER
    if direction is Direction.INCOMING:
        return StaffPostKind.CUSTOMER
    if row["status"] == MessageStatus.DRAFT.value:
        return StaffPostKind.DRAFT
    if direction is Direction.ACTIVITY:
        return StaffPostKind.NOTE if row["private"] else StaffPostKind.EVENT
    if SenderKind(row["sender_kind"]) is SenderKind.AGENT:
        return StaffPostKind.AGENT
    return StaffPostKind.BOT


async def _tickets(ticket_ids: set[int]) -> dict[int, TicketView]:
    if not ticket_ids:
        return {}
    return {row.id: ticket_view(row) for row in await models.Ticket.filter(id__in=ticket_ids)}


async def _attachments(message_ids: list[int]) -> dict[int, tuple[Attachment, ...]]:
    found: defaultdict[int, list[Attachment]] = defaultdict(list)
    for row in await models.Attachment.filter(message_id__in=message_ids).order_by("id"):
        found[row.message_id].append(attachment_view(row))  # type: ignore[attr-defined]
    return {message_id: tuple(items) for message_id, items in found.items()}


async def _recent(conversation_id: int, before_id: int) -> tuple[MessageView, ...]:
    rows = (
        await models.Message.filter(
            conversation_id=conversation_id, private=False, id__lt=before_id
        )
        .exclude(direction=Direction.ACTIVITY)
        .order_by("-id")
        .limit(HANDOFF_RECENT_MESSAGES)
        .prefetch_related("attachments")
    )
    return tuple(
        message_view(row, tuple(attachment_view(a) for a in row.attachments))
        for row in reversed(rows)
    )
