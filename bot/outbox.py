"""Delivering what we owe: from the persistent outbox to the channel, exactly once.

New deliveries are sent at once by the process that stored them; a sweeper picks up
anything due for a retry or left behind by a crashed process (its lease ran out).
Sends to one chat go in order; different chats proceed in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from bot.errors import DeliveryFailed
from bot.tasks import SerialLanes, TaskTracker
from bot.types import ChannelAdapter, ChannelKind, DeliveryStore, PendingDelivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
UNCONFIGURED_CHANNEL_RETRY = timedelta(minutes=10)
SWEEP_BATCH = 200


def retry_delay(attempt: int, *, retry_after: float | None = None) -> float:
    """Seconds before the next try: the platform's own wait if it named one, else backoff."""
    if retry_after is not None:
        return retry_after
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


class Outbox:
    def __init__(
        self,
        store: DeliveryStore,
        adapters: Mapping[ChannelKind, ChannelAdapter],
        tracker: TaskTracker,
        *,
        owner: str,
        poll_seconds: float,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._lanes = SerialLanes(tracker, name="deliver")
        self._owner = owner
        self._poll_seconds = poll_seconds
        self._in_flight: set[int] = set()
        self._wake = asyncio.Event()

    def send_now(self, deliveries: Iterable[PendingDelivery]) -> None:
        for delivery in deliveries:
            if delivery.id in self._in_flight:
                continue
            self._in_flight.add(delivery.id)
            chat = (delivery.address.channel, delivery.address.chat_id)
            self._lanes.submit(chat, lambda d=delivery: self._deliver(d))  # type: ignore[misc]

    def wake(self) -> None:
        """Look for due deliveries now (another process may have queued some)."""
        self._wake.set()

    async def sweep_forever(self) -> None:
        while True:
            try:
                self.send_now(
                    await self._store.claim_due(lease_owner=self._owner, limit=SWEEP_BATCH)
                )
            except Exception:
                log.exception("outbox sweep failed; trying again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)

    async def _deliver(self, delivery: PendingDelivery) -> None:
        try:
            await self._attempt(delivery)
        finally:
            self._in_flight.discard(delivery.id)

    async def _attempt(self, delivery: PendingDelivery) -> None:
        adapter = self._adapters.get(delivery.address.channel)
        if adapter is None:
            log.warning(
                "delivery %d: channel %s is not configured here; will retry",
                delivery.id,
                delivery.address.channel,
            )
            await self._store.schedule_retry(
                delivery.id,
                at=datetime.now(UTC) + UNCONFIGURED_CHANNEL_RETRY,
                error=f"channel {delivery.address.channel} not configured",
            )
            return
        try:
            external_id = await adapter.send(
                delivery.address, delivery.reply, message_id=delivery.message_id
            )
        except DeliveryFailed as exc:
            await self._failed(delivery, exc)
        except Exception as exc:
            log.exception("delivery %d: unexpected error from %s", delivery.id, adapter.kind)
            await self._failed(delivery, DeliveryFailed(adapter.kind, type(exc).__name__))
        else:
            await self._store.mark_delivered(delivery.id, external_id=external_id)

    async def _failed(self, delivery: PendingDelivery, exc: DeliveryFailed) -> None:
        attempt = delivery.attempts + 1
        if exc.permanent or attempt >= MAX_ATTEMPTS:
            log.warning(
                "delivery %d failed for good after %d attempts: %s",
                delivery.id,
                attempt,
                exc.reason,
            )
            await self._store.mark_failed(delivery.id, error=exc.reason)
            return
        delay = retry_delay(attempt, retry_after=exc.retry_after)
        log.info(
            "delivery %d: attempt %d failed (%s); retry in %.1fs",
            delivery.id,
            attempt,
            exc.reason,
            delay,
        )
        await self._store.schedule_retry(
            delivery.id, at=datetime.now(UTC) + timedelta(seconds=delay), error=exc.reason
        )
        if delay <= self._poll_seconds:
            asyncio.get_running_loop().call_later(delay, self._wake.set)
