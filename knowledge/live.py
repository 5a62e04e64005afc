"""The FAQ and document indexes a server answers from, rebuilt when any process changes them.

The database keeps a revision number that every change bumps; each process compares it
with the revision its index was built from, so an import from the CLI reaches a running
server within one poll interval.

With an embedding model, the FAQ's stored vectors are loaded with it. They are made at
import (`helpline faq import`, `helpline faq embed`), never here: if any FAQ version
lacks current vectors, the server matches lexically and says so in its log.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.types import FaqEntry, FaqMatch, Passage
from knowledge.faq import FaqMatcher
from knowledge.passages import PassageIndex, PassageText
from knowledge.semantic import Embedder, SemanticIndex, VectorRecord, current_vectors

log = logging.getLogger(__name__)

ListEntries = Callable[[], Awaitable[list[FaqEntry]]]
ReadRevision = Callable[[], Awaitable[int]]
LoadVectors = Callable[[str], Awaitable[Sequence[VectorRecord]]]
ListPassages = Callable[[], Awaitable[Sequence[PassageText]]]


class LiveFaq:
    """Implements `bot.types.KnowledgeSearch` over the current FAQ."""

    def __init__(
        self,
        list_entries: ListEntries,
        read_revision: ReadRevision,
        *,
        min_score: float | None,
        embedder: Embedder | None = None,
        load_vectors: LoadVectors | None = None,
    ) -> None:
        self._list_entries = list_entries
        self._read_revision = read_revision
        self._min_score = min_score
        self._embedder = embedder if load_vectors is not None else None
        self._load_vectors = load_vectors
        self._matcher = FaqMatcher([], min_score=min_score)
        self._revision: int | None = None
        # One thread embeds questions, one at a time: the model's arithmetic is the limit.
        self._embedding_thread = ThreadPoolExecutor(1, thread_name_prefix="faq-embedding")

    @property
    def size(self) -> int:
        return self._matcher.size

    @property
    def semantic(self) -> bool:
        """True while matching blends in embeddings."""
        return self._matcher.semantic

    @property
    def threshold(self) -> float:
        return self._matcher.min_score

    def best_match(self, question: str, language: str | None) -> FaqMatch | None:
        return self._matcher.best_match(question, language)

    def search(self, question: str, language: str | None, *, limit: int) -> list[FaqMatch]:
        return self._matcher.search(question, language, limit=limit)

    async def search_off_loop(
        self, question: str, language: str | None, *, limit: int
    ) -> list[FaqMatch]:
        matcher = self._matcher
        if not matcher.semantic:
            return matcher.search(question, language, limit=limit)  # well under a thread hop
        search = functools.partial(matcher.search, question, language, limit=limit)
        return await asyncio.get_running_loop().run_in_executor(self._embedding_thread, search)

    async def refresh(self) -> bool:
        """Rebuild the index if the FAQ changed since the last build; True when rebuilt."""
        revision = await self._read_revision()
        if revision == self._revision:
            return False
        entries = await self._list_entries()
        semantic = await self._semantic_index(entries)
        # Building is CPU work; keep the event loop answering meanwhile.
        matcher = await asyncio.to_thread(
            FaqMatcher, entries, min_score=self._min_score, semantic=semantic
        )
        self._matcher, self._revision = matcher, revision
        log.info(
            "FAQ index built: %d entries (revision %d, %s)",
            len(entries),
            revision,
            "with embeddings" if semantic is not None else "lexical",
        )
        return True

    async def _semantic_index(self, entries: list[FaqEntry]) -> SemanticIndex | None:
        if self._embedder is None or self._load_vectors is None or not entries:
            return None
        records = await self._load_vectors(self._embedder.name)
        vectors, missing = current_vectors(entries, records)
        if missing:
            log.warning(
                "%d FAQ versions have no current embeddings; matching lexically until "
                "`helpline faq embed` runs",
                len(missing),
            )
            return None
        return SemanticIndex(self._embedder, vectors)

    async def refresh_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("FAQ refresh failed; keeping the current index")


class LiveDocuments:
    """Implements `bot.types.DocumentSearch` over the current imported documents."""

    def __init__(self, list_passages: ListPassages, read_revision: ReadRevision) -> None:
        self._list_passages = list_passages
        self._read_revision = read_revision
        self._index = PassageIndex([])
        self._revision: int | None = None

    @property
    def size(self) -> int:
        """Number of passages searchable now."""
        return len(self._index)

    def search_passages(self, query: str, language: str | None, *, limit: int) -> list[Passage]:
        return self._index.search_passages(query, language, limit=limit)

    async def refresh(self) -> bool:
        revision = await self._read_revision()
        if revision == self._revision:
            return False
        passages = await self._list_passages()
        self._index = await asyncio.to_thread(PassageIndex, passages)
        self._revision = revision
        log.info("document index built: %d passages (revision %d)", len(passages), revision)
        return True

    async def refresh_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("document refresh failed; keeping the current index")
