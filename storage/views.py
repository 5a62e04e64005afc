"""Turning tortoise rows into the frozen `bot.types` views the core works with."""

from __future__ import annotations

from typing import Any

from bot.types import (
    Attachment,
    AttachmentKind,
    Button,
    ChannelAddress,
    ChannelKind,
    ConversationView,
    CustomerView,
    FaqEntry,
    MessageView,
    TicketView,
)
from storage import models


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
    )


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
