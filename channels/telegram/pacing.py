"""Telegram's send limits, kept with moving windows so no window is ever exceeded.

About 1 message a second per chat, 30 a second per bot, 20 a minute per group and bursts
of topic creation (Telegram documents them loosely; each is a setting, 0 switches one
off). A moving window never lets more than N through in any span of its length, which a
token bucket with a burst would. After a 429 every send waits out `retry_after`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

MIN_SLEEP = 0.01


@dataclass(frozen=True, slots=True)
class Limits:
    chat_per_second: int = 1
    bot_per_second: int = 30
    group_per_minute: int = 20
    topics_per_minute: int = 20


class Pacer:
    def __init__(self, limits: Limits) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._chat = _item(RateLimitItemPerSecond, limits.chat_per_second)
        self._bot = _item(RateLimitItemPerSecond, limits.bot_per_second)
        self._group = _item(RateLimitItemPerMinute, limits.group_per_minute)
        self._topics = _item(RateLimitItemPerMinute, limits.topics_per_minute)
        self._paused_until = 0.0

    async def customer_send(self, chat_id: str) -> None:
        """Wait for a slot to send one message to a customer's chat."""
        await self._wait_pause()
        await self._take(self._chat, f"chat:{chat_id}")
        await self._take(self._bot, "bot")

    async def group_send(self) -> None:
        """Wait for a slot to send one message to the agents' group."""
        await self._wait_pause()
        await self._take(self._group, "group")
        await self._take(self._bot, "bot")

    async def topic_create(self) -> None:
        await self._wait_pause()
        await self._take(self._topics, "topics")

    async def group_ready(self) -> None:
        """Return once the group could take one more message (without taking it)."""
        await self._wait_pause()
        if self._group is None:
            return
        while not await self._limiter.test(self._group, "group"):
            await self._sleep_until_reset(self._group, "group")

    def pause(self, seconds: float) -> None:
        """Telegram said 429: hold every send for `seconds`."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def _wait_pause(self) -> None:
        # The pause can grow while we sleep (another 429), so look again after each wait.
        while (left := self._paused_until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    async def _take(self, item: RateLimitItem | None, key: str) -> None:
        if item is None:
            return
        while not await self._limiter.hit(item, key):
            await self._sleep_until_reset(item, key)

    async def _sleep_until_reset(self, item: RateLimitItem, key: str) -> None:
        stats = await self._limiter.get_window_stats(item, key)
        await asyncio.sleep(max(MIN_SLEEP, stats.reset_time - time.time()))


def _item(kind: type[RateLimitItem], amount: int) -> RateLimitItem | None:
    return kind(amount) if amount > 0 else None
