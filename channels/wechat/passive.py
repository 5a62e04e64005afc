"""WeChat's 5-second window: a reply ready in time goes back in the webhook's own response.

The webhook handler stores the message, then waits here for the outbox to deliver a reply
to that customer. While it waits, `send()` hands the text over instead of calling the API
and learns whether the response was written; once the handler gives up, it answers
`success` and every later reply takes the customer-service API. All of it runs on one
event loop, so a waiter changes hands without locks.
"""

from __future__ import annotations

import asyncio
from collections import deque
from enum import Enum, auto

HANDOVER_TIMEOUT = 5.0


class _State(Enum):
    WAITING = auto()
    CLAIMED = auto()
    CLOSED = auto()


class Waiter:
    """One webhook request waiting to answer a customer message with a reply."""

    __slots__ = ("_offered", "_state", "_written", "after_message_id", "openid")

    def __init__(self, openid: str, after_message_id: int) -> None:
        self.openid = openid
        self.after_message_id = after_message_id
        loop = asyncio.get_running_loop()
        self._offered: asyncio.Future[str] = loop.create_future()
        self._written: asyncio.Future[bool] = loop.create_future()
        self._state = _State.WAITING

    def report(self, *, written: bool) -> None:
        """The handler's side: whether the passive reply went out."""
        if not self._written.done():
            self._written.set_result(written)


class PassiveReplies:
    def __init__(self) -> None:
        self._waiting: dict[str, deque[Waiter]] = {}

    def expect(self, openid: str, *, after_message_id: int) -> Waiter:
        """Register before yielding to the loop, so no reply can slip past unseen."""
        waiter = Waiter(openid, after_message_id)
        self._waiting.setdefault(openid, deque()).append(waiter)
        return waiter

    async def wait(self, waiter: Waiter, seconds: float) -> str | None:
        """The reply text handed over in time, or None (the waiter is then withdrawn)."""
        try:
            if seconds > 0 and waiter._state is _State.WAITING:
                await asyncio.wait({waiter._offered}, timeout=seconds)
        finally:
            self.withdraw(waiter)  # also when the request is cancelled (the client left)
        offered = waiter._offered
        return offered.result() if offered.done() and not offered.cancelled() else None

    def withdraw(self, waiter: Waiter) -> None:
        """The request stops waiting: a text not yet handed over will take the API."""
        if waiter._state is _State.WAITING:
            waiter._state = _State.CLOSED
        self._discard(waiter)

    async def hand_over(self, openid: str, message_id: int, text: str) -> bool:
        """`send()`'s side: True once a waiting request wrote `text` as its response.

        Only replies newer than the message a request carries count for it, and each
        request carries one reply; False means: use the API.
        """
        waiter = self._claim(openid, message_id)
        if waiter is None:
            return False
        waiter._offered.set_result(text)
        done, _ = await asyncio.wait({waiter._written}, timeout=HANDOVER_TIMEOUT)
        return bool(done) and waiter._written.result()

    def close_all(self) -> None:
        """Shutdown: every waiting request answers `success` now."""
        for queue in list(self._waiting.values()):
            for waiter in list(queue):
                self.withdraw(waiter)
                if not waiter._offered.done():
                    waiter._offered.cancel()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    def _claim(self, openid: str, message_id: int) -> Waiter | None:
        queue = self._waiting.get(openid)
        if not queue:
            return None
        for waiter in queue:  # oldest first: replies reach the customer in order
            if waiter._state is _State.WAITING and message_id > waiter.after_message_id:
                waiter._state = _State.CLAIMED
                self._discard(waiter)
                return waiter
        return None

    def _discard(self, waiter: Waiter) -> None:
        queue = self._waiting.get(waiter.openid)
        if queue is None:
            return
        if waiter in queue:
            queue.remove(waiter)
        if not queue:
            del self._waiting[waiter.openid]
