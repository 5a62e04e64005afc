"""Customers, their conversations and messages: storing what arrives and what a turn decided."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from bot.types import (
    ChannelAddress,
    ConversationView,
    DeliveryTarget,
    Direction,
    HandoffState,
    InboundMessage,
    MessageStatus,
    MessageView,
    OutboundReply,
    PendingDelivery,
    RecordedInbound,
    SenderKind,
    TicketStatus,
    TurnResult,
)
from storage import models
from storage.tickets import open_or_raise_ticket
from storage.views import (
    attachment_view,
    buttons_to_json,
    conversation_view,
    message_view,
)

LEASE = timedelta(minutes=5)
ACTIVE_TICKET = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER)
IDENTITY_CACHE_SIZE = 50_000
MAX_PROCESSING_ATTEMPTS = 5


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Known:
    conversation_id: int
    display_name: str | None
    language_hint: str | None


class ConversationStore:
    """Implements `bot.types.ConversationStore` on tortoise."""

    def __init__(self) -> None:
        # (channel, external user id) -> conversation: rows are never re-pointed, so any
        # process may cache this mapping; it only saves a lookup per message.
        self._known: OrderedDict[tuple[str, str], _Known] = OrderedDict()

    async def record_inbound(self, message: InboundMessage, *, lease_owner: str) -> RecordedInbound:
        conversation_id = await self._conversation_for(message)
        try:
            async with in_transaction():
                row = await models.Message.create(
                    conversation_id=conversation_id,
                    channel=message.channel,
                    direction=Direction.INCOMING,
                    sender_kind=SenderKind.CUSTOMER,
                    author_name=message.display_name,
                    text=message.text,
                    source_message_id=message.source_message_id,
                    status=MessageStatus.RECEIVED,
                    lease_owner=lease_owner,
                    lease_until=now() + LEASE,
                )
                if message.attachments:
                    await models.Attachment.bulk_create(
                        [
                            models.Attachment(
                                message_id=row.id,
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
        except IntegrityError:
            existing = await models.Message.get(
                channel=message.channel, source_message_id=message.source_message_id
            )
            return RecordedInbound(existing.id, conversation_id, duplicate=True)
        return RecordedInbound(row.id, conversation_id, duplicate=False)

    async def _conversation_for(self, message: InboundMessage) -> int:
        key = (message.channel.value, message.external_user_id)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            if (message.display_name, message.language_hint) != (
                known.display_name,
                known.language_hint,
            ):
                await self._refresh_identity(message, known.conversation_id)
            return known.conversation_id
        identity = await models.ChannelIdentity.get_or_none(
            channel=message.channel, external_user_id=message.external_user_id
        ).prefetch_related("conversation")
        if identity is None:
            conversation_id = await self._create_customer(message)
        else:
            conversation_id = identity.conversation.id
            await self._refresh_identity(message, conversation_id)
        self._remember(message, conversation_id)
        return conversation_id

    def _remember(self, message: InboundMessage, conversation_id: int) -> None:
        key = (message.channel.value, message.external_user_id)
        self._known[key] = _Known(conversation_id, message.display_name, message.language_hint)
        if len(self._known) > IDENTITY_CACHE_SIZE:
            self._known.popitem(last=False)

    async def _refresh_identity(self, message: InboundMessage, conversation_id: int) -> None:
        changes = {"chat_id": message.chat_id}
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
            return identity.conversation.id

    async def load_conversation(self, conversation_id: int) -> ConversationView:
        row = await models.Conversation.get(id=conversation_id).select_related(
            "customer", "identity"
        )
        ticket = await models.Ticket.filter(
            conversation_id=conversation_id, status__in=ACTIVE_TICKET
        ).first()
        return conversation_view(row, row.customer, row.identity, ticket)

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
        identity = await models.ChannelIdentity.get_or_none(
            channel=address.channel, external_user_id=address.external_user_id
        ).prefetch_related("conversation")
        return None if identity is None else identity.conversation.id

    async def commit_turn(self, result: TurnResult, *, lease_owner: str) -> list[PendingDelivery]:
        """Write a turn's decisions at once; the deliveries returned are leased to the caller."""
        async with in_transaction():
            conversation = await models.Conversation.get(id=result.conversation_id).select_related(
                "identity", "customer"
            )
            ticket_id = None
            if result.ticket is not None:
                ticket = await open_or_raise_ticket(conversation, result.ticket)
                ticket_id = ticket.id
                if conversation.handoff is HandoffState.BOT:
                    conversation.handoff = HandoffState.WAITING
            address = ChannelAddress(
                conversation.identity.channel,
                conversation.identity.external_user_id,
                conversation.identity.chat_id,
            )
            deliveries = [
                await _queue_reply(
                    conversation.id, address, reply, result.language, ticket_id, lease_owner
                )
                for reply in result.replies
            ]
            conversation.last_message_at = now()
            if result.language:
                conversation.language = result.language
                if conversation.customer.language != result.language:
                    conversation.customer.language = result.language
                    await conversation.customer.save(update_fields=["language"])
            await conversation.save(update_fields=["last_message_at", "language", "handoff"])
            await models.Message.filter(id=result.inbound_message_id).update(
                status=MessageStatus.FAILED if result.failed else MessageStatus.PROCESSED,
                language=result.language,
                faq_id=result.answered_by_faq,
                ticket_id=ticket_id,
                lease_owner=None,
                lease_until=None,
            )
        return deliveries

    async def queue_replies(
        self, conversation_id: int, replies: list[OutboundReply], *, lease_owner: str
    ) -> list[PendingDelivery]:
        """Outgoing messages outside a customer turn (an agent's reply, a notice)."""
        async with in_transaction():
            conversation = await models.Conversation.get(id=conversation_id).select_related(
                "identity"
            )
            address = ChannelAddress(
                conversation.identity.channel,
                conversation.identity.external_user_id,
                conversation.identity.chat_id,
            )
            ticket = await models.Ticket.filter(
                conversation_id=conversation_id, status__in=ACTIVE_TICKET
            ).first()
            return [
                await _queue_reply(
                    conversation_id,
                    address,
                    reply,
                    conversation.language,
                    ticket.id if ticket else None,
                    lease_owner,
                )
                for reply in replies
            ]

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


async def _queue_reply(
    conversation_id: int,
    address: ChannelAddress,
    reply: OutboundReply,
    language: str | None,
    ticket_id: int | None,
    lease_owner: str,
) -> PendingDelivery:
    current = now()
    message = await models.Message.create(
        conversation_id=conversation_id,
        ticket_id=ticket_id,
        channel=address.channel,
        direction=Direction.OUTGOING,
        sender_kind=reply.sender_kind,
        author_name=reply.author_name,
        text=reply.text,
        status=MessageStatus.PENDING,
        language=language,
        buttons=buttons_to_json(reply.buttons),
    )
    delivery = await models.Delivery.create(
        message_id=message.id,
        target=DeliveryTarget.CUSTOMER,
        status=MessageStatus.PENDING,
        next_attempt_at=current,
        lease_owner=lease_owner,
        lease_until=current + LEASE,
    )
    return PendingDelivery(
        id=delivery.id,
        message_id=message.id,
        address=address,
        reply=reply,
        attempts=0,
    )
