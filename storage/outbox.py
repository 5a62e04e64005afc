"""The persistent outbox: deliveries leased to one process at a time, sent exactly once."""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bot.types import (
    ChannelAddress,
    DeliveryTarget,
    MessageStatus,
    OutboundReply,
    PendingDelivery,
)
from storage import models, sql
from storage.conversations import LEASE, now
from storage.views import buttons_from_json

ERROR_CHARS = 500


class DeliveryStore:
    """Implements `bot.types.DeliveryStore` on tortoise."""

    async def claim_due(self, *, lease_owner: str, limit: int) -> list[PendingDelivery]:
        """Lease deliveries that are due and nobody holds (new, retried, or left by a crash)."""
        current = now()
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=current)
        candidates = (
            await models.Delivery.filter(
                free, status=MessageStatus.PENDING, next_attempt_at__lte=current
            )
            .order_by("id")
            .limit(limit)
            .values("id")
        )
        claimed = []
        for delivery_id in (int(row["id"]) for row in candidates):
            taken = await models.Delivery.filter(
                free, id=delivery_id, status=MessageStatus.PENDING
            ).update(lease_owner=lease_owner, lease_until=current + LEASE)
            if taken:
                claimed.append(delivery_id)
        return await self._load(claimed)

    async def _load(self, delivery_ids: list[int]) -> list[PendingDelivery]:
        if not delivery_ids:
            return []
        rows = (
            await models.Delivery.filter(id__in=delivery_ids)
            .select_related("message__conversation__identity")
            .order_by("id")
        )
        return [_pending(row) for row in rows]

    async def mark_delivered(self, delivery_id: int, *, external_id: str | None) -> None:
        """Record a successful send on the delivery and its message, together."""
        await sql.run(
            (
                "UPDATE delivery SET status = 'sent', sent_at = ?, external_id = ?, "
                "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (sql.db_time(now()), external_id, delivery_id),
            ),
            (
                "UPDATE message SET status = 'sent' WHERE id = "
                "(SELECT message_id FROM delivery WHERE id = ? AND target = 'customer')",
                (delivery_id,),
            ),
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

    async def mark_failed(self, delivery_id: int, *, error: str) -> None:
        async with in_transaction():
            delivery = await models.Delivery.get(id=delivery_id)
            await models.Delivery.filter(id=delivery_id).update(
                status=MessageStatus.FAILED,
                attempts=delivery.attempts + 1,
                error=error[:ERROR_CHARS],
                lease_owner=None,
                lease_until=None,
            )
            if delivery.target is DeliveryTarget.CUSTOMER:
                await models.Message.filter(id=delivery.message_id).update(  # type: ignore[attr-defined]
                    status=MessageStatus.FAILED
                )


def _pending(row: models.Delivery) -> PendingDelivery:
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
        ),
        attempts=row.attempts,
    )
