"""Conversations and what a turn decided: the store behind `ConversationManager`.

The per-message path is a handful of single statements (see `storage.sql`), each one
idempotent, so a turn interrupted by a crash can simply run again: replies carry a key
derived from the message they answer, and a second attempt finds them already there.
While a ticket is active, every message of the conversation is also owed to the staff
desk (a second delivery of the same message), so mirroring is as durable as replying.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from bot.desk import ticket_buttons
from bot.types import (
    Attachment,
    ChannelAddress,
    ConversationView,
    Deliveries,
    Direction,
    HandoffState,
    InboundMessage,
    MessageStatus,
    MessageView,
    OutboundReply,
    RecordedInbound,
    SenderKind,
    StaffEvent,
    TicketView,
    TurnResult,
)
from storage import models, sql
from storage.inbound import FIND_CONVERSATION, LEASE, InboundRecorder, now
from storage.staff_posts import load_staff_posts
from storage.tickets import ACTIVE_STATUSES, open_or_raise_ticket
from storage.views import (
    attachment_from_row,
    attachment_view,
    conversation_from_row,
    history_view,
    message_view,
    ticket_view,
)
from storage.writes import MessageWriter, Outgoing, draft_message

_ACTIVE = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
AI_SWITCH_KEY = "ai_enabled"

CONVERSATION_STATE = f"""
SELECT c.id, c.language, c.ai_enabled, c.handoff, c.rating_ticket_id,
    i.channel, i.external_user_id, i.chat_id, i.language_hint, i.display_name,
    u.id AS customer_id, u.name AS customer_name, u.language AS customer_language,
    u.tags AS customer_tags, u.notes AS customer_notes, u.ai_enabled AS customer_ai_enabled,
    (SELECT s.value FROM system_value s WHERE s.key = '{AI_SWITCH_KEY}') AS service_ai,
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
UPDATE message SET status = ?, language = ?, faq_id = ?, ticket_id = ?, translation = ?,
    answered_by = ?, ai_input_tokens = ?, ai_output_tokens = ?, ai_cost = ?, ai_model = ?,
    lease_owner = NULL, lease_until = NULL
WHERE id = ?
"""


HISTORY = """
SELECT id, conversation_id, direction, sender_kind, text, status, created_at, author_name,
    language, event, action, translation
FROM message
WHERE conversation_id = ? AND private = false AND direction != 'activity'
ORDER BY id DESC
LIMIT ?
"""


HISTORY_ATTACHMENTS = f"""
SELECT message_id, kind, reference, name, mime_type, size, meta
FROM attachment
WHERE message_id IN (SELECT id FROM ({HISTORY}) AS latest)
ORDER BY id
"""
SHARED_ATTACHMENTS = """
SELECT a.message_id, a.kind, a.reference, a.name, a.mime_type, a.size, a.meta
FROM attachment a JOIN message m ON m.id = a.message_id
WHERE a.message_id = ? AND m.private = false
ORDER BY a.id
"""


class ConversationStore:
    """Implements `bot.types.ConversationStore` on tortoise.

    `mirror_to_staff` is on when a staff desk is configured: only then are copies owed.
    """

    def __init__(self, *, mirror_to_staff: bool = False) -> None:
        self._inbound = InboundRecorder()
        self.mirror_to_staff = mirror_to_staff

    async def record_inbound(self, message: InboundMessage, *, lease_owner: str) -> RecordedInbound:
        recorded, state = await self._inbound.record(
            message, lease_owner=lease_owner, state_query=CONVERSATION_STATE
        )
        if state is None:
            return recorded
        return replace(recorded, conversation=conversation_from_row(state))

    async def record_activity(
        self, message: InboundMessage, event: StaffEvent, *, lease_owner: str
    ) -> Deliveries:
        """Something a customer did that is no question (an edit, an unfollow): kept once,
        and shown to staff who follow the conversation."""
        recorded, _ = await self._inbound.record(
            message,
            lease_owner=None,
            status=MessageStatus.PROCESSED,
            direction=Direction.ACTIVITY,
            event=event.value,
        )
        if recorded.duplicate:
            return Deliveries()
        conversation = await self.load_conversation(recorded.conversation_id)
        if not (self.mirror_to_staff and conversation.open_ticket):
            return Deliveries()
        writer = self._writer(conversation, conversation.open_ticket.id, lease_owner)
        writer.mirror(recorded.message_id)
        return await self._run(writer)

    async def load_conversation(self, conversation_id: int) -> ConversationView:
        row = await sql.fetch_one(CONVERSATION_STATE, conversation_id)
        if row is None:
            raise LookupError(f"no conversation {conversation_id}")
        return conversation_from_row(row)

    async def load_message(self, message_id: int) -> MessageView:
        row = await models.Message.get(id=message_id).prefetch_related("attachments")
        attachments = tuple(attachment_view(a) for a in row.attachments)
        return message_view(row, attachments)

    async def history(
        self, conversation_id: int, *, limit: int, attachments: bool = False
    ) -> list[MessageView]:
        """The latest public messages, oldest first (what the customer saw); with their
        attachments when asked (the widget shows them, the model's prompt does not)."""
        if not attachments:
            [rows] = await sql.run((HISTORY, (conversation_id, limit)))
            return [history_view(row) for row in reversed(rows)]
        params = (conversation_id, limit)
        rows, files = await sql.run((HISTORY, params), (HISTORY_ATTACHMENTS, params))
        by_message: dict[int, list[Attachment]] = {}
        for row in files:
            by_message.setdefault(int(row["message_id"]), []).append(attachment_from_row(row))
        return [
            replace(view, attachments=tuple(by_message.get(view.id, ())))
            for view in (history_view(row) for row in reversed(rows))
        ]

    async def shared_attachment(self, message_id: int, index: int) -> Attachment | None:
        """The `index`-th file of a message the customer sees (what a file link names)."""
        [rows] = await sql.run((SHARED_ATTACHMENTS, (message_id,)))
        return attachment_from_row(rows[index]) if 0 <= index < len(rows) else None

    async def find_conversation(self, address: ChannelAddress) -> int | None:
        row = await sql.fetch_one(
            FIND_CONVERSATION, address.channel.value, address.external_user_id
        )
        return None if row is None else int(row["id"])

    async def commit_turn(
        self,
        result: TurnResult,
        *,
        lease_owner: str,
        current: ConversationView | None = None,
    ) -> Deliveries:
        """Write a turn's decisions; the deliveries returned are leased to the caller.

        A turn that opens a ticket runs in one transaction. The usual turn (an answer, no
        ticket) is a few single statements, each safe to repeat: replies are keyed by the
        message they answer, so a crash between statements leaves nothing twice.
        """
        conversation = (
            current if current is not None else await self.load_conversation(result.conversation_id)
        )
        if result.ticket is None:
            ticket = conversation.open_ticket
            writer = self._turn_writer(result, conversation, ticket, lease_owner)
            if self.mirror_to_staff and ticket is not None:
                writer.mirror(result.inbound_message_id)
            self._finish_turn(writer, result, conversation)
            return await self._run(writer)
        async with in_transaction():
            row = await models.Conversation.get(id=result.conversation_id)
            opened, created = await open_or_raise_ticket(row, result.ticket)
            if row.handoff is HandoffState.BOT:
                await models.Conversation.filter(id=row.id).update(handoff=HandoffState.WAITING)
            ticket = ticket_view(opened)
            writer = self._turn_writer(result, conversation, ticket, lease_owner, first=created)
            self._finish_turn(writer, result, conversation)
            outcome = await sql.run(*writer.statements)
        return await self._deliveries(writer, outcome)

    def _turn_writer(
        self,
        result: TurnResult,
        conversation: ConversationView,
        ticket: TicketView | None,
        lease_owner: str,
        *,
        first: bool = False,
    ) -> MessageWriter:
        mirror = self.mirror_to_staff and ticket is not None
        writer = self._writer(conversation, ticket.id if ticket else None, lease_owner)
        writer.language = result.language
        if first and ticket is not None and mirror:
            # The summary carries the recent messages, the question that opened it included.
            reason = result.ticket.reason if result.ticket else ticket.subject
            writer.add(
                Outgoing(
                    key=f"h{result.inbound_message_id}",
                    text=reason,
                    direction=Direction.ACTIVITY,
                    sender_kind=SenderKind.SYSTEM,
                    event=StaffEvent.HANDOFF,
                    reply=OutboundReply(reason, buttons=ticket_buttons(ticket.id)),
                    to_customer=False,
                    to_staff=True,
                )
            )
        elif mirror:
            writer.mirror(result.inbound_message_id)
        for index, reply in enumerate(result.replies):
            key = f"r{result.inbound_message_id}.{index}"
            writer.add(Outgoing.for_reply(key, reply, to_staff=mirror))
        if result.draft is not None:
            writer.add(draft_message(result.inbound_message_id, result.draft, to_staff=mirror))
        return writer

    def _finish_turn(
        self, writer: MessageWriter, result: TurnResult, conversation: ConversationView
    ) -> None:
        if result.language and result.language != conversation.language:
            writer.statements.append(
                (
                    "UPDATE conversation SET language = ? WHERE id = ?",
                    (result.language, conversation.id),
                )
            )
        if result.language and result.language != conversation.customer.language:
            writer.statements.append(
                (
                    "UPDATE customer SET language = ? WHERE id = ?",
                    (result.language, conversation.customer.id),
                )
            )
        if result.rating is not None:
            ticket_id, score = result.rating
            writer.statements.append(
                (
                    "UPDATE ticket SET satisfaction = ? WHERE id = ? AND satisfaction IS NULL",
                    (score, ticket_id),
                )
            )
            writer.statements.append(
                (
                    "INSERT INTO ticket_event (ticket_id, kind, detail, created_at) "
                    "VALUES (?, 'rated', ?, ?)",
                    (ticket_id, json.dumps({"score": str(score)}), writer.now),
                )
            )
        if conversation.rating_ticket_id is not None:
            # Answered or not, the question is behind us once the customer writes again.
            writer.statements.append(
                (
                    "UPDATE conversation SET rating_ticket_id = NULL WHERE id = ?",
                    (conversation.id,),
                )
            )
        status = MessageStatus.FAILED if result.failed else MessageStatus.PROCESSED
        usage = result.usage
        writer.statements.append(
            (
                MARK_PROCESSED,
                (
                    status.value,
                    result.language,
                    result.answered_by_faq,
                    writer.ticket_id,
                    result.translation,
                    result.answered_by.value if result.answered_by else None,
                    usage.input_tokens if usage else None,
                    usage.output_tokens if usage else None,
                    usage.cost_usd if usage else None,
                    usage.model if usage else None,
                    result.inbound_message_id,
                ),
            )
        )

    async def queue_replies(
        self, conversation_id: int, replies: list[OutboundReply], *, lease_owner: str
    ) -> Deliveries:
        """Outgoing messages outside a customer turn (an agent's reply, a notice)."""
        conversation = await self.load_conversation(conversation_id)
        ticket = conversation.open_ticket
        writer = self._writer(conversation, ticket.id if ticket else None, lease_owner)
        for reply in replies:
            mirror = self.mirror_to_staff and ticket is not None
            writer.add(Outgoing.for_reply(f"q{uuid.uuid4().hex}", reply, to_staff=mirror))
        return await self._run(writer)

    def _writer(
        self, conversation: ConversationView, ticket_id: int | None, lease_owner: str
    ) -> MessageWriter:
        current = now()
        return MessageWriter(
            conversation_id=conversation.id,
            address=conversation.address,
            ticket_id=ticket_id,
            language=conversation.language,
            lease_owner=lease_owner,
            now=current,
            lease_until=current + LEASE,
        )

    async def _run(self, writer: MessageWriter) -> Deliveries:
        return await self._deliveries(writer, await sql.run(*writer.statements))

    async def _deliveries(self, writer: MessageWriter, outcome: list[sql.Rows]) -> Deliveries:
        staff_ids = writer.staff_delivery_ids(outcome)
        return Deliveries(
            customer=tuple(writer.customer_deliveries(outcome)),
            staff=tuple(await load_staff_posts(staff_ids)) if staff_ids else (),
        )

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

    async def release(self, *, lease_owner: str) -> None:
        """On shutdown: unfinished turns of this process are free for the next one at once."""
        await sql.execute(
            "UPDATE message SET lease_owner = NULL, lease_until = NULL "
            "WHERE lease_owner = ? AND status = 'received'",
            lease_owner,
        )

    async def processing_attempts(self, message_id: int) -> int:
        row = await models.Message.get(id=message_id).only("attempts")
        return int(row.attempts)

    async def mark_inbound_failed(self, message_id: int) -> None:
        await models.Message.filter(id=message_id).update(
            status=MessageStatus.FAILED, lease_owner=None, lease_until=None
        )
