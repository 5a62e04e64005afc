"""Background work that finishes cleanly on shutdown, in order per key where order matters."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class TaskTracker:
    """Every background task in one set: logged when it fails, awaited or cancelled at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace_seconds: float) -> None:
        """Let running work finish for up to `grace_seconds`, then cancel what is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        while self._tasks and (remaining := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=remaining)
        await self.cancel_all()

    async def cancel_all(self, *, expected: bool = False) -> None:
        """Cancel what is running; `expected` for loops that only end this way."""
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            level = logging.DEBUG if expected else logging.WARNING
            log.log(level, "cancelled %d unfinished background tasks", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)


class SerialLanes:
    """Runs jobs one after another per key and different keys in parallel.

    Messages of one conversation must be answered in order; two customers never wait
    for each other (no global lock).
    """

    def __init__(self, tracker: TaskTracker, *, name: str) -> None:
        self._tracker = tracker
        self._name = name
        self._lanes: dict[Hashable, deque[Job]] = {}

    def submit(self, key: Hashable, job: Job) -> None:
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(job)
            return
        self._lanes[key] = deque([job])
        self._tracker.spawn(self._run(key), name=f"{self._name}:{key}")

    async def _run(self, key: Hashable) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                job = lane.popleft()
                try:
                    await job()
                except Exception:
                    log.exception("%s job for %s failed", self._name, key)
        finally:
            del self._lanes[key]

    def busy(self, key: Hashable) -> bool:
        """A job for `key` is running or waiting."""
        return key in self._lanes

    @property
    def busy_keys(self) -> int:
        return len(self._lanes)
