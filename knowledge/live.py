"""The FAQ index a server answers from, rebuilt when any process changes the FAQ.

The database keeps a revision number that every FAQ change bumps; each process compares
it with the revision its index was built from, so an import from the CLI reaches a
running server within one poll interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.types import FaqEntry, FaqMatch
from knowledge.faq import FaqMatcher

log = logging.getLogger(__name__)

ListEntries = Callable[[], Awaitable[list[FaqEntry]]]
ReadRevision = Callable[[], Awaitable[int]]


class LiveFaq:
    """Implements `bot.types.KnowledgeSearch` over the current FAQ."""

    def __init__(
        self, list_entries: ListEntries, read_revision: ReadRevision, *, min_score: float | None
    ) -> None:
        self._list_entries = list_entries
        self._read_revision = read_revision
        self._min_score = min_score
        self._matcher = FaqMatcher([], min_score=min_score)
        self._revision: int | None = None

    @property
    def size(self) -> int:
        return self._matcher.size

    def best_match(self, question: str, language: str | None) -> FaqMatch | None:
        return self._matcher.best_match(question, language)

    def search(self, question: str, language: str | None, *, limit: int) -> list[FaqMatch]:
        return self._matcher.search(question, language, limit=limit)

    async def refresh(self) -> bool:
        """Rebuild the index if the FAQ changed since the last build; True when rebuilt."""
        revision = await self._read_revision()
        if revision == self._revision:
            return False
        entries = await self._list_entries()
        # Building is CPU work; keep the event loop answering meanwhile.
        matcher = await asyncio.to_thread(FaqMatcher, entries, min_score=self._min_score)
        self._matcher, self._revision = matcher, revision
        log.info("FAQ index built: %d entries (revision %d)", len(entries), revision)
        return True

    async def refresh_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("FAQ refresh failed; keeping the current index")
