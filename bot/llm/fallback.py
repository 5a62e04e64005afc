"""A second provider that answers when the first one fails.

After a failure the first provider is skipped for a cool-down, so that while it is down
each customer does not wait out its timeout again before the fallback answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.errors import LLMError
from bot.llm.types import LLMProvider, LLMReply, LLMRequest, SearchKnowledge, Translation

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_SECONDS = 60.0
T = TypeVar("T")


class FallbackProvider:
    def __init__(
        self,
        primary: LLMProvider,
        fallback: LLMProvider,
        *,
        cooldown: float = DEFAULT_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self._cooldown = cooldown
        self._clock = clock
        self._primary_failed_at: float | None = None

    @property
    def name(self) -> str:
        return self.primary.name

    @property
    def model(self) -> str:
        return self.primary.model

    async def reply(
        self, request: LLMRequest, *, search_knowledge: SearchKnowledge | None = None
    ) -> LLMReply:
        return await self._either(
            lambda provider: provider.reply(request, search_knowledge=search_knowledge)
        )

    async def translate(self, text: str, target_language: str) -> Translation:
        return await self._either(lambda provider: provider.translate(text, target_language))

    async def verify(self) -> None:
        await self.primary.verify()
        await self.fallback.verify()

    async def close(self) -> None:
        await self.primary.close()
        await self.fallback.close()

    async def _either(self, call: Callable[[LLMProvider], Awaitable[T]]) -> T:
        if not self._cooling_down():
            try:
                result = await call(self.primary)
            except LLMError as exc:
                self._primary_failed_at = self._clock()
                log.warning(
                    "%s failed (%s): %s takes over for %.0f s",
                    self.primary.name,
                    exc,
                    self.fallback.name,
                    self._cooldown,
                )
            else:
                self._primary_failed_at = None
                return result
        return await call(self.fallback)

    def _cooling_down(self) -> bool:
        failed_at = self._primary_failed_at
        return failed_at is not None and self._clock() - failed_at < self._cooldown
