"""Views as storage hands them to the pipeline, for building prompts in tests."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.types import (
    AutomationLevel,
    CustomerView,
    Direction,
    FaqEntry,
    FaqMatch,
    MessageStatus,
    MessageView,
    SenderKind,
    TicketPriority,
    TicketStatus,
    TicketView,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def from_customer(message_id: int, text: str, *, conversation_id: int = 1) -> MessageView:
    return MessageView(
        id=message_id,
        conversation_id=conversation_id,
        direction=Direction.INCOMING,
        sender_kind=SenderKind.CUSTOMER,
        text=text,
        private=False,
        status=MessageStatus.PROCESSED,
        created_at=NOW,
    )


def from_us(
    message_id: int,
    text: str,
    *,
    sender: SenderKind = SenderKind.BOT,
    private: bool = False,
    status: MessageStatus = MessageStatus.SENT,
) -> MessageView:
    return MessageView(
        id=message_id,
        conversation_id=1,
        direction=Direction.OUTGOING,
        sender_kind=sender,
        text=text,
        private=private,
        status=status,
        created_at=NOW,
    )


def customer(name: str | None = "Ana Lima") -> CustomerView:
    return CustomerView(
        id=3, name=name, language="en", tags=("vip",), notes="internal note", ai_enabled=True
    )


def ticket(number: int, subject: str, status: TicketStatus = TicketStatus.OPEN) -> TicketView:
    return TicketView(
        id=number,
        conversation_id=1,
        customer_id=3,
        status=status,
        priority=TicketPriority.HIGH,
        category="delivery",
        subject=subject,
        assignee_id=None,
        automation_level=AutomationLevel.HUMAN,
        opened_at=NOW,
        first_response_at=None,
        resolved_at=None,
        closed_at=None,
        resolution=None,
        satisfaction=None,
    )


def faq(question: str, answer: str, *, score: float = 0.62, language: str = "en") -> FaqMatch:
    return FaqMatch(
        FaqEntry(f"faq-{abs(hash(question)) % 1000}", language, question, answer), score
    )
