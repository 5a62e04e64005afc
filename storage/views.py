"""Turning tortoise rows into the frozen `bot.types` views the core works with."""

from __future__ import annotations

import json
from typing import Any

from bot.types import (
    Attachment,
    AttachmentKind,
    AutomationLevel,
    Button,
    ChannelAddress,
    ChannelKind,
    ConversationView,
    CustomerView,
    Direction,
    FaqEntry,
    HandoffState,
    InboundKind,
    MessageStatus,
    MessageView,
    SenderKind,
    TicketPriority,
    TicketStatus,
    TicketView,
)
from storage import models, sql


def customer_view(row: models.Customer) -> CustomerView:
    return CustomerView(
        id=row.id,
        name=row.name,
        language=row.language,
        tags=tuple(row.tags or ()),
        notes=row.notes,
        ai_enabled=row.ai_enabled,
    )


def address_view(row: models.ChannelIdentity) -> ChannelAddress:
    return ChannelAddress(
        channel=ChannelKind(row.channel),
        external_user_id=row.external_user_id,
        chat_id=row.chat_id,
    )


def ticket_view(row: models.Ticket) -> TicketView:
    return TicketView(
        id=row.id,
        conversation_id=row.conversation_id,  # type: ignore[attr-defined]
        customer_id=row.customer_id,  # type: ignore[attr-defined]
        status=row.status,
        priority=row.priority,
        category=row.category,
        subject=row.subject,
        assignee_id=row.assignee_id,  # type: ignore[attr-defined]
        automation_level=row.automation_level,
        opened_at=row.opened_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        resolution=row.resolution,
        satisfaction=row.satisfaction,
    )


def conversation_view(
    row: models.Conversation,
    customer: models.Customer,
    identity: models.ChannelIdentity,
    open_ticket: models.Ticket | None,
) -> ConversationView:
    return ConversationView(
        id=row.id,
        customer=customer_view(customer),
        address=address_view(identity),
        language=row.language,
        language_hint=identity.language_hint,
        ai_enabled=row.ai_enabled,
        handoff=row.handoff,
        open_ticket=ticket_view(open_ticket) if open_ticket is not None else None,
    )


def attachment_view(row: models.Attachment) -> Attachment:
    return Attachment(
        kind=AttachmentKind(row.kind),
        reference=row.reference,
        name=row.name,
        mime_type=row.mime_type,
        size=row.size,
        meta=dict(row.meta or {}),
    )


def attachment_from_row(row: dict[str, Any]) -> Attachment:
    """An attachment read with plain SQL (its meta is JSON text on SQLite and PostgreSQL)."""
    meta = row["meta"]
    if isinstance(meta, str | bytes):
        meta = json.loads(meta or "{}")
    return Attachment(
        kind=AttachmentKind(row["kind"]),
        reference=row["reference"],
        name=row["name"],
        mime_type=row["mime_type"],
        size=None if row["size"] is None else int(row["size"]),
        meta=dict(meta or {}),
    )


def message_view(row: models.Message, attachments: tuple[Attachment, ...] = ()) -> MessageView:
    return MessageView(
        id=row.id,
        conversation_id=row.conversation_id,  # type: ignore[attr-defined]
        direction=row.direction,
        sender_kind=row.sender_kind,
        text=row.text,
        private=row.private,
        status=row.status,
        created_at=row.created_at,
        author_name=row.author_name,
        language=row.language,
        attachments=attachments,
        kind=_inbound_kind(row),
        action=row.action,
        translation=row.translation,
    )


def history_view(row: dict[str, Any]) -> MessageView:
    """A message read back with plain SQL (the per-turn history), without attachments."""
    created_at = sql.py_time(row["created_at"])
    assert created_at is not None
    direction = Direction(row["direction"])
    event = row["event"]
    kind = (
        InboundKind(event)
        if direction is Direction.INCOMING and event in INBOUND_KINDS
        else InboundKind.MESSAGE
    )
    return MessageView(
        id=int(row["id"]),
        conversation_id=int(row["conversation_id"]),
        direction=direction,
        sender_kind=SenderKind(row["sender_kind"]),
        text=row["text"],
        private=False,
        status=MessageStatus(row["status"]),
        created_at=created_at,
        author_name=row["author_name"],
        language=row["language"],
        kind=kind,
        action=row["action"],
        translation=row["translation"],
    )


def _inbound_kind(row: models.Message) -> InboundKind:
    if row.direction is Direction.INCOMING and row.event in INBOUND_KINDS:
        return InboundKind(row.event)
    return InboundKind.MESSAGE


INBOUND_KINDS = frozenset(kind.value for kind in InboundKind)


def buttons_from_json(raw: list[Any] | None) -> tuple[Button, ...]:
    return tuple(Button(label=str(b["label"]), action=str(b["action"])) for b in raw or ())


def buttons_to_json(buttons: tuple[Button, ...]) -> list[dict[str, str]]:
    return [{"label": b.label, "action": b.action} for b in buttons]


def faq_view(row: models.FaqRecord) -> FaqEntry:
    return FaqEntry(
        faq_id=row.faq_id,
        language=row.language,
        question=row.question,
        answer=row.answer,
        category=row.category,
        tags=tuple(row.tags or ()),
        paraphrases=tuple(row.paraphrases or ()),
    )


def conversation_from_row(row: dict[str, Any]) -> ConversationView:
    tags = row["customer_tags"]
    customer = CustomerView(
        id=int(row["customer_id"]),
        name=row["customer_name"] or row.get("display_name"),
        language=row["customer_language"],
        tags=tuple(json.loads(tags) if isinstance(tags, str) else tags or ()),
        notes=row["customer_notes"],
        ai_enabled=bool(row["customer_ai_enabled"]),
    )
    return ConversationView(
        id=int(row["id"]),
        customer=customer,
        address=ChannelAddress(
            ChannelKind(row["channel"]), row["external_user_id"], row["chat_id"]
        ),
        language=row["language"],
        language_hint=row["language_hint"],
        ai_enabled=bool(row["ai_enabled"]),
        handoff=HandoffState(row["handoff"]),
        open_ticket=ticket_from_row(row) if row["ticket_id"] is not None else None,
        service_ai_enabled=row.get("service_ai") != "false",
        rating_ticket_id=row.get("rating_ticket_id"),
    )


def ticket_from_row(row: dict[str, Any]) -> TicketView:
    opened_at = sql.py_time(row["opened_at"])
    assert opened_at is not None
    return TicketView(
        id=int(row["ticket_id"]),
        conversation_id=int(row["id"]),
        customer_id=int(row["customer_id"]),
        status=TicketStatus(row["ticket_status"]),
        priority=TicketPriority(row["ticket_priority"]),
        category=row["ticket_category"],
        subject=row["ticket_subject"],
        assignee_id=row["assignee_id"],
        automation_level=AutomationLevel(row["automation_level"]),
        opened_at=opened_at,
        first_response_at=sql.py_time(row["first_response_at"]),
        resolved_at=sql.py_time(row["resolved_at"]),
        closed_at=sql.py_time(row["closed_at"]),
        resolution=row["resolution"],
        satisfaction=row["satisfaction"],
    )
