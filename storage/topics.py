"""The customer ↔ agents'-chat topic mapping, one topic per customer across restarts.

Creating a topic is claimed in the database first (a unique row per customer), so two
processes, or a backlog of messages from one customer, can never open two topics.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from bot.desk import TopicView
from storage import models
from storage.inbound import now

STALE_CLAIM = timedelta(minutes=2)
"""A claim this old belongs to a process that died while creating the topic."""


class TopicStore:
    """Implements `bot.desk.TopicStore` on tortoise."""

    async def topic(self, customer_id: int) -> TopicView | None:
        row = await models.StaffTopic.get_or_none(customer_id=customer_id)
        if row is None:
            return None
        return TopicView(
            customer_id=customer_id,
            chat_id=row.chat_id,
            thread_id=row.thread_id,
            name=row.name,
            closed=row.closed,
        )

    async def claim(self, customer_id: int, *, chat_id: str, claimant: str) -> bool:
        current = now()
        try:
            await models.StaffTopic.create(
                customer_id=customer_id,
                chat_id=chat_id,
                claimed_by=claimant,
                claimed_at=current,
            )
            return True
        except IntegrityError:
            pass
        taken = await models.StaffTopic.filter(
            Q(claimed_by=claimant) | Q(claimed_at__lt=current - STALE_CLAIM),
            customer_id=customer_id,
            thread_id__isnull=True,
        ).update(claimed_by=claimant, claimed_at=current, chat_id=chat_id)
        return bool(taken)

    async def created(self, customer_id: int, *, thread_id: str, name: str) -> None:
        await models.StaffTopic.filter(customer_id=customer_id).update(
            thread_id=thread_id, name=name, closed=False, claimed_by=None, claimed_at=None
        )

    async def set_state(self, customer_id: int, *, closed: bool, name: str | None = None) -> None:
        changes: dict[str, object] = {"closed": closed}
        if name is not None:
            changes["name"] = name
        await models.StaffTopic.filter(customer_id=customer_id).update(**changes)

    async def release(self, customer_id: int) -> None:
        """Forget the topic (it could not be created, or staff deleted it in the chat)."""
        await models.StaffTopic.filter(customer_id=customer_id).delete()
