"""Statement groups that write outgoing messages and their deliveries in one trip.

Every outgoing message carries a key (`source_message_id`) derived from what caused it,
so a repeated write (a turn run again after a crash) finds it already there and adds
nothing. Deliveries find their message by that key, which lets one group write both
without a round trip in between.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from bot.types import (
    Attachment,
    Button,
    ChannelAddress,
    DeliveryTarget,
    Direction,
    MessageStatus,
    OutboundReply,
    PendingDelivery,
    SenderKind,
    StaffEvent,
)
from storage import sql
from storage.views import buttons_to_json

INSERT_MESSAGE = """
INSERT INTO message (conversation_id, ticket_id, channel, direction, sender_kind, agent_id,
    author_name, text, private, source_message_id, status, language, buttons, event, action,
    attempts, lease_owner, lease_until, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
ON CONFLICT (channel, source_message_id) DO NOTHING
RETURNING id
"""
INSERT_DELIVERY_BY_KEY = """
INSERT INTO delivery (message_id, target, status, attempts, next_attempt_at, lease_owner,
    lease_until, created_at)
SELECT id, ?, 'pending', 0, ?, ?, ?, ? FROM message
WHERE channel = ? AND source_message_id = ?
ON CONFLICT (message_id, target) DO NOTHING
RETURNING id, message_id
"""
INSERT_DELIVERY_BY_ID = """
INSERT INTO delivery (message_id, target, status, attempts, next_attempt_at, lease_owner,
    lease_until, created_at)
VALUES (?, ?, 'pending', 0, ?, ?, ?, ?)
ON CONFLICT (message_id, target) DO NOTHING
RETURNING id, message_id
"""
INSERT_ATTACHMENT_BY_KEY = """
INSERT INTO attachment (message_id, kind, reference, name, mime_type, size, meta)
SELECT m.id, ?, ?, ?, ?, ?, ? FROM message m
WHERE m.channel = ? AND m.source_message_id = ?
    AND NOT EXISTS (SELECT 1 FROM attachment a WHERE a.message_id = m.id AND a.reference = ?)
"""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message we write: a reply to the customer, or an activity only staff see."""

    key: str
    text: str
    direction: Direction = Direction.OUTGOING
    sender_kind: SenderKind = SenderKind.BOT
    author_name: str | None = None
    agent_id: int | None = None
    private: bool = False
    event: StaffEvent | None = None
    reply: OutboundReply | None = None
    to_customer: bool = True
    to_staff: bool = False
    status: MessageStatus | None = None
    """None: pending when owed to the customer, else processed."""

    @classmethod
    def for_reply(cls, key: str, reply: OutboundReply, *, to_staff: bool) -> Outgoing:
        return cls(
            key=key,
            text=reply.text,
            sender_kind=reply.sender_kind,
            author_name=reply.author_name,
            reply=reply,
            to_staff=to_staff,
        )


def draft_key(question_id: int) -> str:
    """A draft is known by the customer message it answers (`/draft send N`)."""
    return f"d{question_id}"


def draft_buttons(question_id: int) -> tuple[Button, ...]:
    return (
        Button("✅ Send", f"/draft send {question_id}"),
        Button("✏️ Edit", f"/draft edit {question_id}"),
        Button("🗑 Discard", f"/draft discard {question_id}"),
    )


def draft_message(question_id: int, draft: OutboundReply, *, to_staff: bool) -> Outgoing:
    """An AI answer kept for staff: stored, shown in the topic, not sent."""
    return Outgoing(
        key=draft_key(question_id),
        text=draft.text,
        reply=OutboundReply(draft.text, buttons=draft_buttons(question_id)),
        to_customer=False,
        to_staff=to_staff,
        status=MessageStatus.DRAFT,
    )


@dataclass
class MessageWriter:
    """Collects the statements for one conversation's outgoing messages and deliveries."""

    conversation_id: int
    address: ChannelAddress
    ticket_id: int | None
    language: str | None
    lease_owner: str
    now: datetime
    lease_until: datetime
    statements: list[sql.Statement] = field(default_factory=list)
    _customer: list[tuple[int, OutboundReply]] = field(default_factory=list)
    _staff: list[int] = field(default_factory=list)

    def add(self, item: Outgoing) -> None:
        reply = item.reply or OutboundReply(item.text)
        status = item.status or (
            MessageStatus.PENDING if item.to_customer else MessageStatus.PROCESSED
        )
        self.statements.append(
            (
                INSERT_MESSAGE,
                (
                    self.conversation_id,
                    self.ticket_id,
                    self.address.channel.value,
                    item.direction.value,
                    item.sender_kind.value,
                    item.agent_id,
                    item.author_name,
                    item.text,
                    item.private,
                    item.key,
                    status.value,
                    self.language,
                    json.dumps(buttons_to_json(reply.buttons)),
                    item.event.value if item.event else None,
                    None,
                    None,
                    None,
                    self.now,
                ),
            )
        )
        for attachment in reply.attachments:
            self.statements.append(_attachment_statement(attachment, self.address, item.key))
        if item.to_customer:
            self._customer.append((len(self.statements), reply))
            self.statements.append(self._delivery_by_key(DeliveryTarget.CUSTOMER, item.key))
        if item.to_staff:
            self._staff.append(len(self.statements))
            self.statements.append(self._delivery_by_key(DeliveryTarget.STAFF, item.key))

    def mirror(self, message_id: int) -> None:
        """Owe the staff a copy of a message already stored (a customer's, usually)."""
        self._staff.append(len(self.statements))
        self.statements.append(self._delivery_by_id(DeliveryTarget.STAFF, message_id))

    def owe_customer(self, message_id: int, reply: OutboundReply) -> None:
        """Owe the customer a message already stored (an approved draft)."""
        self._customer.append((len(self.statements), reply))
        self.statements.append(self._delivery_by_id(DeliveryTarget.CUSTOMER, message_id))

    def _delivery_by_id(self, target: DeliveryTarget, message_id: int) -> sql.Statement:
        return (
            INSERT_DELIVERY_BY_ID,
            (
                message_id,
                target.value,
                self.now,
                self.lease_owner,
                self.lease_until,
                self.now,
            ),
        )

    def _delivery_by_key(self, target: DeliveryTarget, key: str) -> sql.Statement:
        return (
            INSERT_DELIVERY_BY_KEY,
            (
                target.value,
                self.now,
                self.lease_owner,
                self.lease_until,
                self.now,
                self.address.channel.value,
                key,
            ),
        )

    def customer_deliveries(self, outcome: list[sql.Rows]) -> list[PendingDelivery]:
        """Deliveries this write created (a repeated write finds them made and gets none)."""
        return [
            PendingDelivery(
                id=int(row["id"]),
                message_id=int(row["message_id"]),
                address=self.address,
                reply=reply,
                attempts=0,
            )
            for index, reply in self._customer
            for row in outcome[index]
        ]

    def staff_delivery_ids(self, outcome: list[sql.Rows]) -> list[int]:
        return [int(row["id"]) for index in self._staff for row in outcome[index]]


def _attachment_statement(
    attachment: Attachment, address: ChannelAddress, key: str
) -> sql.Statement:
    return (
        INSERT_ATTACHMENT_BY_KEY,
        (
            attachment.kind.value,
            attachment.reference,
            attachment.name,
            attachment.mime_type,
            attachment.size,
            json.dumps(dict(attachment.meta)),
            address.channel.value,
            key,
            attachment.reference,
        ),
    )
