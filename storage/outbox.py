"""The persistent outbox: deliveries leased to one process at a time, sent exactly once.

A customer delivery that fails for good is recorded on its message, and when staff follow
the conversation (an active ticket or a topic) they are told in the topic, through the
same outbox.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bot.types import (
    Attachment,
    ChannelAddress,
    Deliveries,
    DeliveryTarget,
    Direction,
    MessageStatus,
    OutboundReply,
    PendingDelivery,
    SenderKind,
    StaffEvent,
)
from storage import models, sql
from storage.inbound import LEASE, now
from storage.staff_posts import load_staff_posts
from storage.tickets import active_ticket
from storage.views import attachment_view, buttons_from_json
from storage.writes import MessageWriter, Outgoing

ERROR_CHARS = 500


class DeliveryStore:
    """Implements `bot.types.DeliveryStore` on tortoise."""

    def __init__(self, *, mirror_to_staff: bool = False) -> None:
        self.mirror_to_staff = mirror_to_staff

    async def claim_due(self, *, lease_owner: str, limit: int) -> Deliveries:
        """Lease deliveries that are due and nobody holds (new, retried, or left by a crash)."""
        current = now()
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=current)
        candidates = (
            await models.Delivery.filter(
                free, status=MessageStatus.PENDING, next_attempt_at__lte=current
            )
            .order_by("id")
            .limit(limit)
            .values("id", "target")
        )
        claimed: dict[DeliveryTarget, list[int]] = defaultdict(list)
        for row in candidates:
            taken = await models.Delivery.filter(
                free, id=row["id"], status=MessageStatus.PENDING
            ).update(lease_owner=lease_owner, lease_until=current + LEASE)
            if taken:
                claimed[DeliveryTarget(row["target"])].append(int(row["id"]))
        return Deliveries(
            customer=tuple(await self._customer(claimed[DeliveryTarget.CUSTOMER])),
            staff=tuple(await load_staff_posts(claimed[DeliveryTarget.STAFF])),
        )

    async def _customer(self, delivery_ids: list[int]) -> list[PendingDelivery]:
        if not delivery_ids:
            return []
        rows = (
            await models.Delivery.filter(id__in=delivery_ids)
            .select_related("message__conversation__identity")
            .order_by("id")
        )
        attachments: defaultdict[int, list[Attachment]] = defaultdict(list)
        message_ids = [row.message.id for row in rows]
        for attachment in await models.Attachment.filter(message_id__in=message_ids).order_by("id"):
            attachments[attachment.message_id].append(attachment_view(attachment))  # type: ignore[attr-defined]
        return [_pending(row, tuple(attachments[row.message.id])) for row in rows]

    async def release(self, *, lease_owner: str) -> None:
        """On shutdown: what this process still holds is free for the next one at once."""
        await sql.execute(
            "UPDATE delivery SET lease_owner = NULL, lease_until = NULL "
            "WHERE lease_owner = ? AND status = 'pending'",
            lease_owner,
        )

    async def mark_delivered(self, delivery_id: int, *, external_id: str | None) -> None:
        """Record a successful send on the delivery and its message, together."""
        await sql.run(
            (
                "UPDATE delivery SET status = 'sent', sent_at = ?, external_id = ?, "
                "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (now(), external_id, delivery_id),
            ),
            (
                "UPDATE message SET status = 'sent' WHERE id = "
                "(SELECT message_id FROM delivery WHERE id = ? AND target = 'customer')",
                (delivery_id,),
            ),
        )

    async def record_parts(self, delivery_id: int, parts_sent: int) -> None:
        await sql.execute(
            "UPDATE delivery SET parts_sent = ? WHERE id = ?", parts_sent, delivery_id
        )

    async def schedule_retry(self, delivery_id: int, *, at: datetime, error: str) -> None:
        delivery = await models.Delivery.get(id=delivery_id)
        await models.Delivery.filter(id=delivery_id).update(
            attempts=delivery.attempts + 1,
            next_attempt_at=at,
            error=error[:ERROR_CHARS],
            lease_owner=None,
            lease_until=None,
        )

    async def mark_failed(self, delivery_id: int, *, error: str, lease_owner: str) -> Deliveries:
        """Give up on a delivery; staff following the conversation are told what failed."""
        async with in_transaction():
            delivery = await models.Delivery.get(id=delivery_id).select_related(
                "message__conversation__identity"
            )
            await models.Delivery.filter(id=delivery_id).update(
                status=MessageStatus.FAILED,
                attempts=delivery.attempts + 1,
                error=error[:ERROR_CHARS],
                lease_owner=None,
                lease_until=None,
            )
            if delivery.target is not DeliveryTarget.CUSTOMER:
                return Deliveries()
            message = delivery.message
            await models.Message.filter(id=message.id).update(status=MessageStatus.FAILED)
            if not self.mirror_to_staff:
                return Deliveries()
            writer = await self._failure_notice(message, error, lease_owner)
            if writer is None:
                return Deliveries()
            outcome = await sql.run(*writer.statements)
        return Deliveries(staff=tuple(await load_staff_posts(writer.staff_delivery_ids(outcome))))

    async def _failure_notice(
        self, message: models.Message, error: str, lease_owner: str
    ) -> MessageWriter | None:
        conversation = message.conversation
        ticket = await active_ticket(conversation.id)
        has_topic = await models.StaffTopic.filter(
            customer_id=conversation.customer_id  # type: ignore[attr-defined]
        ).exists()
        if ticket is None and not has_topic:
            return None
        identity = conversation.identity
        current = now()
        writer = MessageWriter(
            conversation_id=conversation.id,
            address=ChannelAddress(identity.channel, identity.external_user_id, identity.chat_id),
            ticket_id=ticket.id if ticket else None,
            language=None,
            lease_owner=lease_owner,
            now=current,
            lease_until=current + LEASE,
        )
        preview = " ".join(message.text.split())[:200]
        writer.add(
            Outgoing(
                key=f"f{message.id}.{uuid.uuid4().hex[:8]}",
                text=f"Could not deliver to the customer ({error[:ERROR_CHARS]}): {preview}",
                direction=Direction.ACTIVITY,
                sender_kind=SenderKind.SYSTEM,
                event=StaffEvent.DELIVERY_FAILED,
                to_customer=False,
                to_staff=True,
            )
        )
        return writer


def _pending(row: models.Delivery, attachments: tuple[Attachment, ...]) -> PendingDelivery:
    message = row.message
    identity = message.conversation.identity
    return PendingDelivery(
        id=row.id,
        message_id=message.id,
        address=ChannelAddress(identity.channel, identity.external_user_id, identity.chat_id),
        reply=OutboundReply(
            text=message.text,
            sender_kind=message.sender_kind,
            author_name=message.author_name,
            buttons=buttons_from_json(message.buttons),
            attachments=attachments,
        ),
        attempts=row.attempts,
        parts_sent=row.parts_sent,
    )
