"""PassageIndex: search imported documents for passages that may answer a question.

Lexical like the FAQ matcher (char-trigram and word TF-IDF, so typos and inflections
still find a passage), over each passage's headings and text. Scores are cosines, only
comparable within one search; there is no threshold here: the LLM layer decides what to
use as grounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.types import Passage
from knowledge.index import RowIndex
from knowledge.text import char_features, tokenize, word_features

CHAR_WEIGHT = 0.6
"""Passages are longer than FAQ questions: words carry more of the meaning."""
CANDIDATES = 64


@dataclass(frozen=True, slots=True)
class PassageText:
    """A passage as stored, before any search."""

    document: str
    title: str
    heading: str
    text: str
    language: str | None = None
    position: int = 0


class PassageIndex:
    """Implements `bot.types.DocumentSearch` over a fixed list of passages."""

    def __init__(self, passages: Sequence[PassageText]) -> None:
        self._passages = list(passages)
        rows = []
        for passage in self._passages:
            tokens = tokenize(f"{passage.title}\n{passage.heading}\n{passage.text}")
            rows.append((word_features(tokens), char_features(tokens)))
        self._index = RowIndex(rows, char_weight=CHAR_WEIGHT)

    def __len__(self) -> int:
        return len(self._passages)

    def search_passages(self, query: str, language: str | None, *, limit: int) -> list[Passage]:
        """The passages most similar to `query`, best first (`language` is not a filter:
        a German customer may be answered from an English manual)."""
        if limit <= 0 or not self._passages:
            return []
        tokens = tokenize(query)
        vector = self._index.query_vector(word_features(tokens), char_features(tokens))
        found = self._index.top_rows(vector, max(limit, CANDIDATES))[:limit]
        results = []
        for row, score in found:
            passage = self._passages[row]
            title = passage.title
            if passage.heading:
                title = f"{title} › {passage.heading}"
            results.append(
                Passage(
                    document=passage.document,
                    title=title,
                    text=passage.text,
                    score=min(1.0, score),
                    language=passage.language,
                    position=passage.position,
                )
            )
        return results
