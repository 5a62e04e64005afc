"""Customers, their conversations and messages: storing what arrives and what a turn decided.

The per-message path is a handful of single statements (see `storage.sql`), each one
idempotent, so a turn interrupted by a crash can simply run again: replies carry a key
derived from the message they answer, and a second attempt finds them already there.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from bot.types import (
    AutomationLevel,
    ChannelAddress,
    ChannelKind,
    ConversationView,
    CustomerView,
    Direction,
    HandoffState,
    InboundMessage,
    MessageStatus,
    MessageView,
    OutboundReply,
    PendingDelivery,
    RecordedInbound,
    SenderKind,
    TicketPriority,
    TicketStatus,
    TicketView,
    TurnResult,
)
from storage import models, sql
from storage.tickets import ACTIVE_STATUSES, open_or_raise_ticket
from storage.views import attachment_view, buttons_to_json, message_view

LEASE = timedelta(minutes=5)
IDENTITY_CACHE_SIZE = 50_000
_ACTIVE = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)

INSERT_MESSAGE = """
INSERT INTO message (conversation_id, ticket_id, channel, direction, sender_kind, author_name,
    text, private, source_message_id, status, language, buttons, attempts, lease_owner,
    lease_until, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
ON CONFLICT (channel, source_message_id) DO NOTHING
RETURNING id
"""
# The delivery finds its message by key, so one group can write both without a round trip.
INSERT_DELIVERY = """
INSERT INTO delivery (message_id, target, status, attempts, next_attempt_at, lease_owner,
    lease_until, created_at)
SELECT id, 'customer', 'pending', 0, ?, ?, ?, ? FROM message
WHERE channel = ? AND source_message_id = ?
ON CONFLICT (message_id, target) DO NOTHING
RETURNING id, message_id
"""
CONVERSATION_STATE = f"""
SELECT c.id, c.language, c.ai_enabled, c.handoff,
    i.channel, i.external_user_id, i.chat_id, i.language_hint,
    u.id AS customer_id, u.name AS customer_name, u.language AS customer_language,
    u.tags AS customer_tags, u.notes AS customer_notes, u.ai_enabled AS customer_ai_enabled,
    t.id AS ticket_id, t.status AS ticket_status, t.priority AS ticket_priority,
    t.category AS ticket_category, t.subject AS ticket_subject, t.assignee_id,
    t.automation_level, t.opened_at, t.first_response_at, t.resolved_at, t.closed_at,
    t.resolution, t.satisfaction
FROM conversation c
JOIN customer u ON u.id = c.customer_id
JOIN channel_identity i ON i.id = c.identity_id
LEFT JOIN ticket t ON t.conversation_id = c.id AND t.status IN ({_ACTIVE})
WHERE c.id = ?
ORDER BY t.id
"""
MARK_PROCESSED = """
UPDATE message SET status = ?, language = ?, faq_id = ?, ticket_id = ?,
    lease_owner = NULL, lease_until = NULL
WHERE id = ?
"""


def now() -> datetime:
    return datetime.now(UTC)


class ConversationStore:
    """Implements `bot.types.ConversationStore` on tortoise."""

    def __init__(self) -> None:
        # (channel, external user id) -> conversation id, display name, language hint.
        # Identities are never re-pointed, so every process may cache the mapping.
        self._known: OrderedDict[tuple[str, str], tuple[int, str | None, str | None]] = (
            OrderedDict()
        )

    async def record_inbound(self, message: InboundMessage, *, lease_owner: str) -> RecordedInbound:
        conversation_id = await self._conversation_for(message)
        current = now()
        values = (
            conversation_id,
            None,
            message.channel.value,
            Direction.INCOMING.value,
            SenderKind.CUSTOMER.value,
            message.display_name,
            message.text,
            False,
            message.source_message_id,
            MessageStatus.RECEIVED.value,
            None,
            "[]",
            lease_owner,
            sql.db_time(current + LEASE),
            sql.db_time(current),
        )
        if message.attachments:
            async with in_transaction():
                row = await sql.fetch_one(INSERT_MESSAGE, *values)
                if row is not None:
                    await _store_attachments(int(row["id"]), message)
        else:
            row = await sql.fetch_one(INSERT_MESSAGE, *values)
        if row is None:
            existing = await sql.fetch_one(
                "SELECT id FROM message WHERE channel = ? AND source_message_id = ?",
                message.channel.value,
                message.source_message_id,
            )
            assert existing is not None
            return RecordedInbound(int(existing["id"]), conversation_id, duplicate=True)
        return RecordedInbound(int(row["id"]), conversation_id, duplicate=False)

    async def _conversation_for(self, message: InboundMessage) -> int:
        key = (message.channel.value, message.external_user_id)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            conversation_id, display_name, hint = known
            if (message.display_name, message.language_hint) != (display_name, hint):
                await self._refresh_identity(message, conversation_id)
            return conversation_id
        row = await sql.fetch_one(
            "SELECT c.id FROM conversation c JOIN channel_identity i ON i.id = c.identity_id "
            "WHERE i.channel = ? AND i.external_user_id = ?",
            message.channel.value,
            message.external_user_id,
        )
        if row is None:
            conversation_id = await self._create_customer(message)
        else:
            conversation_id = int(row["id"])
            await self._refresh_identity(message, conversation_id)
        self._remember(message, conversation_id)
        return conversation_id

    def _remember(self, message: InboundMessage, conversation_id: int) -> None:
        key = (message.channel.value, message.external_user_id)
        self._known[key] = (conversation_id, message.display_name, message.language_hint)
        if len(self._known) > IDENTITY_CACHE_SIZE:
            self._known.popitem(last=False)

    async def _refresh_identity(self, message: InboundMessage, conversation_id: int) -> None:
        changes: dict[str, Any] = {"chat_id": message.chat_id}
        if message.display_name:
            changes["display_name"] = message.display_name
        if message.language_hint:
            changes["language_hint"] = message.language_hint
        await models.ChannelIdentity.filter(
            channel=message.channel, external_user_id=message.external_user_id
        ).update(**changes)
        self._remember(message, conversation_id)

    async def _create_customer(self, message: InboundMessage) -> int:
        try:
            async with in_transaction():
                customer = await models.Customer.create(name=message.display_name)
                identity = await models.ChannelIdentity.create(
                    customer=customer,
                    channel=message.channel,
                    external_user_id=message.external_user_id,
                    chat_id=message.chat_id,
                    display_name=message.display_name,
                    language_hint=message.language_hint,
                )
                conversation = await models.Conversation.create(
                    customer=customer, identity=identity
                )
                return conversation.id
        except IntegrityError:
            # The same new customer wrote twice at once; the other write won.
            identity = await models.ChannelIdentity.get(
                channel=message.channel, external_user_id=message.external_user_id
            ).prefetch_related("conversation")
            return int(identity.conversation.id)

    async def load_conversation(self, conversation_id: int) -> ConversationView:
        row = await sql.fetch_one(CONVERSATION_STATE, conversation_id)
        if row is None:
            raise LookupError(f"no conversation {conversation_id}")
        return _conversation_view(row)

    async def load_message(self, message_id: int) -> MessageView:
        row = await models.Message.get(id=message_id).prefetch_related("attachments")
        attachments = tuple(attachment_view(a) for a in row.attachments)
        return message_view(row, attachments)

    async def history(self, conversation_id: int, *, limit: int) -> list[MessageView]:
        """The latest public messages, oldest first (what the customer saw)."""
        rows = (
            await models.Message.filter(conversation_id=conversation_id, private=False)
            .exclude(direction=Direction.ACTIVITY)
            .order_by("-id")
            .limit(limit)
        )
        return [message_view(row) for row in reversed(rows)]

    async def find_conversation(self, address: ChannelAddress) -> int | None:
        row = await sql.fetch_one(
            "SELECT c.id FROM conversation c JOIN channel_identity i ON i.id = c.identity_id "
            "WHERE i.channel = ? AND i.external_user_id = ?",
            address.channel.value,
            address.external_user_id,
        )
        return None if row is None else int(row["id"])

    async def commit_turn(self, result: TurnResult, *, lease_owner: str) -> list[PendingDelivery]:
        """Write a turn's decisions; the deliveries returned are leased to the caller.

        A turn that opens a ticket runs in one transaction. The usual turn (an answer, no
        ticket) is three single statements, each safe to repeat: replies are keyed by the
        message they answer, so a crash between statements leaves nothing twice.
        """
        conversation = await self.load_conversation(result.conversation_id)
        if result.ticket is None:
            return await self._write_turn(result, conversation, None, lease_owner)
        async with in_transaction():
            row = await models.Conversation.get(id=result.conversation_id)
            ticket = await open_or_raise_ticket(row, result.ticket)
            if row.handoff is HandoffState.BOT:
                await models.Conversation.filter(id=row.id).update(handoff=HandoffState.WAITING)
            return await self._write_turn(result, conversation, ticket.id, lease_owner)

    async def _write_turn(
        self,
        result: TurnResult,
        conversation: ConversationView,
        ticket_id: int | None,
        lease_owner: str,
    ) -> list[PendingDelivery]:
        if ticket_id is None and conversation.open_ticket is not None:
            ticket_id = conversation.open_ticket.id
        replies = [
            (f"r{result.inbound_message_id}.{index}", reply)
            for index, reply in enumerate(result.replies)
        ]
        statements = _reply_statements(
            conversation, replies, result.language, ticket_id, lease_owner
        )
        if result.language and result.language != conversation.language:
            statements.append(
                (
                    "UPDATE conversation SET language = ? WHERE id = ?",
                    (result.language, conversation.id),
                )
            )
        if result.language and result.language != conversation.customer.language:
            statements.append(
                (
                    "UPDATE customer SET language = ? WHERE id = ?",
                    (result.language, conversation.customer.id),
                )
            )
        status = MessageStatus.FAILED if result.failed else MessageStatus.PROCESSED
        statements.append(
            (
                MARK_PROCESSED,
                (
                    status.value,
                    result.language,
                    result.answered_by_faq,
                    ticket_id,
                    result.inbound_message_id,
                ),
            )
        )
        outcome = await sql.run(*statements)
        return _pending_deliveries(conversation, replies, outcome)

    async def queue_replies(
        self, conversation_id: int, replies: list[OutboundReply], *, lease_owner: str
    ) -> list[PendingDelivery]:
        """Outgoing messages outside a customer turn (an agent's reply, a notice)."""
        conversation = await self.load_conversation(conversation_id)
        ticket_id = conversation.open_ticket.id if conversation.open_ticket else None
        keyed = [(f"q{uuid.uuid4().hex}", reply) for reply in replies]
        statements = _reply_statements(
            conversation, keyed, conversation.language, ticket_id, lease_owner
        )
        return _pending_deliveries(conversation, keyed, await sql.run(*statements))

    async def claim_unprocessed(self, *, lease_owner: str, limit: int) -> list[int]:
        """Take over customer messages nobody finished (a crash, a restart)."""
        current = now()
        expired = Q(lease_until__isnull=True) | Q(lease_until__lt=current)
        candidates = (
            await models.Message.filter(expired, status=MessageStatus.RECEIVED)
            .order_by("id")
            .limit(limit)
            .values("id")
        )
        claimed: list[int] = []
        for message_id in (int(row["id"]) for row in candidates):
            taken = await models.Message.filter(
                expired, id=message_id, status=MessageStatus.RECEIVED
            ).update(lease_owner=lease_owner, lease_until=current + LEASE)
            if taken:
                claimed.append(message_id)
        if claimed:
            await models.Message.filter(id__in=claimed).update(attempts=F("attempts") + 1)
        return claimed

    async def processing_attempts(self, message_id: int) -> int:
        row = await models.Message.get(id=message_id).only("attempts")
        return int(row.attempts)

    async def mark_inbound_failed(self, message_id: int) -> None:
        await models.Message.filter(id=message_id).update(
            status=MessageStatus.FAILED, lease_owner=None, lease_until=None
        )


async def _store_attachments(message_id: int, message: InboundMessage) -> None:
    await models.Attachment.bulk_create(
        [
            models.Attachment(
                message_id=message_id,
                kind=a.kind,
                reference=a.reference,
                name=a.name,
                mime_type=a.mime_type,
                size=a.size,
                meta=dict(a.meta),
            )
            for a in message.attachments
        ]
    )


def _reply_statements(
    conversation: ConversationView,
    replies: list[tuple[str, OutboundReply]],
    language: str | None,
    ticket_id: int | None,
    lease_owner: str,
) -> list[sql.Statement]:
    """Each reply as a message and its delivery, keyed so a repeated turn adds nothing."""
    current = now()
    address = conversation.address
    statements: list[sql.Statement] = []
    for key, reply in replies:
        statements.append(
            (
                INSERT_MESSAGE,
                (
                    conversation.id,
                    ticket_id,
                    address.channel.value,
                    Direction.OUTGOING.value,
                    reply.sender_kind.value,
                    reply.author_name,
                    reply.text,
                    False,
                    key,
                    MessageStatus.PENDING.value,
                    language,
                    json.dumps(buttons_to_json(reply.buttons)),
                    None,
                    None,
                    sql.db_time(current),
                ),
            )
        )
        statements.append(
            (
                INSERT_DELIVERY,
                (
                    sql.db_time(current),
                    lease_owner,
                    sql.db_time(current + LEASE),
                    sql.db_time(current),
                    address.channel.value,
                    key,
                ),
            )
        )
    return statements


def _pending_deliveries(
    conversation: ConversationView,
    replies: list[tuple[str, OutboundReply]],
    outcome: list[sql.Rows],
) -> list[PendingDelivery]:
    """Deliveries this call created (a repeated turn finds them made and gets none)."""
    pending = []
    for index, (_, reply) in enumerate(replies):
        for row in outcome[2 * index + 1]:
            pending.append(
                PendingDelivery(
                    id=int(row["id"]),
                    message_id=int(row["message_id"]),
                    address=conversation.address,
                    reply=reply,
                    attempts=0,
                )
            )
    return pending


def _conversation_view(row: dict[str, Any]) -> ConversationView:
    tags = row["customer_tags"]
    customer = CustomerView(
        id=int(row["customer_id"]),
        name=row["customer_name"],
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
        open_ticket=_ticket_view(row) if row["ticket_id"] is not None else None,
    )


def _ticket_view(row: dict[str, Any]) -> TicketView:
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
