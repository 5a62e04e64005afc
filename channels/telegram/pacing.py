"""Telegram's send limits, kept so that Telegram never sees one exceeded.

About 1 message a second per chat, 30 a second per bot, 20 a minute per group and bursts
of topic creation (Telegram documents them loosely; each is a setting, 0 switches one
off). Each limit is a moving window of N sends per period. A send holds its slot while
its request is under way and the period is counted from the moment Telegram answered,
not from when we started sending: however late a request arrives on Telegram's side, the
next one cannot arrive within the same period. After a 429 every send waits out
`retry_after`.

The windows live in this process; several server processes each keep their own (a
shared store would be needed to split one bot's budget between them).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

MIN_SLEEP = 0.01
IDLE_WINDOWS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Limits:
    chat_per_second: int = 1
    bot_per_second: int = 30
    group_per_minute: int = 20
    topics_per_minute: int = 20


class Window:
    """At most `amount` sends per `seconds`, each counted until `seconds` after it ended."""

    def __init__(self, amount: int, seconds: float) -> None:
        self._amount = amount
        self._seconds = seconds
        self._ended: deque[float] = deque()
        self._in_flight = 0
        self._changed = asyncio.Event()

    def _forget_old(self, now: float) -> None:
        while self._ended and self._ended[0] <= now - self._seconds:
            self._ended.popleft()

    def wait_time(self) -> float:
        """Seconds until a send may start (0: now)."""
        now = time.monotonic()
        self._forget_old(now)
        if len(self._ended) + self._in_flight < self._amount:
            return 0.0
        if not self._ended:
            return -1.0  # full of requests under way: wait for one to end
        return self._ended[0] + self._seconds - now

    async def ready(self) -> None:
        while (wait := self.wait_time()) != 0.0:
            if wait < 0:
                self._changed.clear()
                await self._changed.wait()
            else:
                await asyncio.sleep(max(MIN_SLEEP, wait))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.ready()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._ended.append(time.monotonic())
            self._changed.set()

    @property
    def idle(self) -> bool:
        self._forget_old(time.monotonic())
        return not self._ended and not self._in_flight


class Pacer:
    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._bot = _window(limits.bot_per_second, 1.0)
        self._group = _window(limits.group_per_minute, 60.0)
        self._topics = _window(limits.topics_per_minute, 60.0)
        self._chats: dict[str, Window] = {}
        self._paused_until = 0.0

    @asynccontextmanager
    async def customer_send(self, chat_id: str) -> AsyncIterator[None]:
        """Hold the slots one message to a customer's chat needs while it is sent."""
        await self._wait_pause()
        async with self._slots(self._chat(chat_id), self._bot):
            yield

    @asynccontextmanager
    async def group_send(self) -> AsyncIterator[None]:
        """Hold the slots one message to the agents' group needs while it is sent."""
        await self._wait_pause()
        async with self._slots(self._group, self._bot):
            yield

    @asynccontextmanager
    async def topic_create(self) -> AsyncIterator[None]:
        await self._wait_pause()
        async with self._slots(self._topics):
            yield

    async def group_ready(self) -> None:
        """Return once the group could take one more message (without taking it)."""
        await self._wait_pause()
        if self._group is not None:
            await self._group.ready()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: hold every send for `seconds`."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def _wait_pause(self) -> None:
        # The pause can grow while we sleep (another 429), so look again after each wait.
        while (left := self._paused_until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    def _chat(self, chat_id: str) -> Window | None:
        if self._limits.chat_per_second <= 0:
            return None
        window = self._chats.get(chat_id)
        if window is None:
            if len(self._chats) > IDLE_WINDOWS_KEPT:
                self._chats = {key: w for key, w in self._chats.items() if not w.idle}
            window = self._chats[chat_id] = Window(self._limits.chat_per_second, 1.0)
        return window

    @asynccontextmanager
    async def _slots(self, *windows: Window | None) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for window in windows:
                if window is not None:
                    await stack.enter_async_context(window.slot())
            yield


def _window(amount: int, seconds: float) -> Window | None:
    return Window(amount, seconds) if amount > 0 else None
