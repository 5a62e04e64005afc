"""Delivering what we owe: from the persistent outbox to the channel or the desk, once.

New deliveries are sent at once by the process that stored them; a sweeper picks up
anything due for a retry or left behind by a crashed process (its lease ran out).

- Sends to one customer chat go in order; different chats proceed in parallel. A short
  wait (a 429's `retry_after`, a network blip) is waited out in place, so order holds;
  a long one is scheduled in the database and the lane moves on.
- Staff posts queue per customer topic. The desk paces them to its group limit; while it
  is throttled the queue grows, and the posts waiting then go out merged into one
  message, so a busy hour delays mirroring but never drops it.
- A reply sent as several messages (a long text, files) records each part as it goes
  out, so a retry, a restart or another process sends only the parts still owed.
- A delivery that cannot succeed (blocked bot, deleted chat) is marked failed, and staff
  following the conversation are told in its topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.desk import StaffDesk
from bot.errors import DeliveryFailed
from bot.tasks import SerialLanes, TaskTracker
from bot.types import (
    ChannelAdapter,
    ChannelKind,
    Deliveries,
    DeliveryStore,
    PendingDelivery,
    SendProgress,
    StaffPost,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
IN_PLACE_WAIT_SECONDS = 30.0
"""Waits up to this long happen inside the lane (keeping order); longer ones are scheduled."""
UNCONFIGURED_RETRY = timedelta(minutes=10)
SWEEP_BATCH = 200
MERGE_MAX_POSTS = 30


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
        desk: StaffDesk | None = None,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._tracker = tracker
        self._lanes = SerialLanes(tracker, name="deliver")
        self._owner = owner
        self._poll_seconds = poll_seconds
        self.desk = desk
        self._in_flight: set[int] = set()
        self._staff_queues: dict[int, list[StaffPost]] = {}
        self._wake = asyncio.Event()

    def send_now(self, deliveries: Deliveries) -> None:
        for delivery in deliveries.customer:
            if delivery.id in self._in_flight:
                continue
            self._in_flight.add(delivery.id)
            chat = (delivery.address.channel, delivery.address.chat_id)
            self._lanes.submit(chat, lambda d=delivery: self._deliver(d))  # type: ignore[misc]
        for post in deliveries.staff:
            if post.delivery_id in self._in_flight:
                continue
            self._in_flight.add(post.delivery_id)
            queue = self._staff_queues.get(post.customer_id)
            if queue is None:
                queue = self._staff_queues[post.customer_id] = []
                self._tracker.spawn(self._drain_staff(post.customer_id), name="desk")
            queue.append(post)

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

    # Customers ---------------------------------------------------------------------------

    async def _deliver(self, delivery: PendingDelivery) -> None:
        try:
            await self._attempt(delivery)
        finally:
            self._in_flight.discard(delivery.id)

    async def _attempt(self, delivery: PendingDelivery) -> None:
        adapter = self._adapters.get(delivery.address.channel)
        if adapter is None:
            await self._unconfigured([delivery.id], str(delivery.address.channel))
            return
        attempt = delivery.attempts
        progress = self._progress(delivery.id, delivery.parts_sent)
        while True:
            try:
                external_id = await adapter.send(
                    delivery.address,
                    delivery.reply,
                    message_id=delivery.message_id,
                    progress=progress,
                )
            except Exception as exc:
                attempt += 1
                failure = _as_failure(exc, adapter.kind, delivery.id)
                if not await self._retry_in_place([delivery.id], failure, attempt):
                    return
            else:
                await self._store.mark_delivered(delivery.id, external_id=external_id)
                return

    # Staff -------------------------------------------------------------------------------

    async def _drain_staff(self, customer_id: int) -> None:
        queue = self._staff_queues[customer_id]
        try:
            while queue:
                if self.desk is None:
                    batch, queue[:] = list(queue), []
                    await self._unconfigured([p.delivery_id for p in batch], "staff desk")
                    self._release(batch)
                    continue
                await self.desk.pace()
                batch = _take_batch(queue)
                try:
                    await self._post(batch)
                finally:
                    self._release(batch)
        except Exception:
            log.exception("staff posts for customer %d failed", customer_id)
            self._release(queue)
        finally:
            del self._staff_queues[customer_id]

    async def _post(self, batch: list[StaffPost]) -> None:
        assert self.desk is not None
        ids = [post.delivery_id for post in batch]
        attempt = max(post.attempts for post in batch)
        progress = {
            post.delivery_id: self._progress(post.delivery_id, post.parts_sent) for post in batch
        }
        while True:
            try:
                external_id = await self.desk.post(batch, progress)
            except Exception as exc:
                attempt += 1
                failure = _as_failure(exc, "desk", ids[0])
                if not await self._retry_in_place(ids, failure, attempt):
                    return
            else:
                for delivery_id in ids:
                    await self._store.mark_delivered(delivery_id, external_id=external_id)
                return

    def _progress(self, delivery_id: int, parts_sent: int) -> SendProgress:
        async def record(done: int) -> None:
            await self._store.record_parts(delivery_id, done)

        return SendProgress(parts_sent, record)

    def _release(self, posts: Sequence[StaffPost]) -> None:
        for post in posts:
            self._in_flight.discard(post.delivery_id)

    # Failures ----------------------------------------------------------------------------

    async def _retry_in_place(
        self, delivery_ids: list[int], failure: DeliveryFailed, attempt: int
    ) -> bool:
        """True: wait done, try again now. False: the failure is recorded, stop here."""
        if failure.permanent or attempt >= MAX_ATTEMPTS:
            log.warning(
                "delivery %s failed for good after %d attempts: %s",
                delivery_ids,
                attempt,
                failure.reason,
            )
            for delivery_id in delivery_ids:
                notice = await self._store.mark_failed(
                    delivery_id, error=failure.reason, lease_owner=self._owner
                )
                self.send_now(notice)
            return False
        delay = retry_delay(attempt, retry_after=failure.retry_after)
        log.info(
            "delivery %s: attempt %d failed (%s); retry in %.1fs",
            delivery_ids,
            attempt,
            failure.reason,
            delay,
        )
        if delay <= IN_PLACE_WAIT_SECONDS:
            await asyncio.sleep(delay)
            return True
        at = datetime.now(UTC) + timedelta(seconds=delay)
        for delivery_id in delivery_ids:
            await self._store.schedule_retry(delivery_id, at=at, error=failure.reason)
        return False

    async def _unconfigured(self, delivery_ids: list[int], what: str) -> None:
        log.warning("deliveries %s: %s is not configured here; will retry", delivery_ids, what)
        at = datetime.now(UTC) + UNCONFIGURED_RETRY
        for delivery_id in delivery_ids:
            await self._store.schedule_retry(delivery_id, at=at, error=f"{what} not configured")


def _as_failure(exc: Exception, where: str, delivery_id: int) -> DeliveryFailed:
    if isinstance(exc, DeliveryFailed):
        return exc
    log.error("delivery %d: unexpected error from %s", delivery_id, where, exc_info=exc)
    return DeliveryFailed(where, type(exc).__name__)


def _take_batch(queue: list[StaffPost]) -> list[StaffPost]:
    """The next post, or every mergeable post waiting at the head of the queue."""
    if not queue[0].mergeable:
        return [queue.pop(0)]
    count = 0
    while count < len(queue) and count < MERGE_MAX_POSTS and queue[count].mergeable:
        count += 1
    batch = queue[:count]
    del queue[:count]
    return batch
