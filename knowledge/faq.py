"""FaqMatcher: answer from the FAQ when a lexical match is clearly good, else decline.

Every question and paraphrase of every language version is one row of a `RowIndex`;
each version with several rows is also indexed as one pooled text (its centroid, in
effect). A version scores 0.6 × the mean of its best three rows + 0.4 × its pooled
text: one lucky paraphrase is weaker evidence than several. An FAQ entry scores its
best version. The confidence is a logistic function of that score plus the winner's
relative lead over the runner-up, `(score - runner_up) / (score + 0.1)`; a relative lead
keeps one threshold usable for FAQs with one paraphrase per entry or a hundred.

Calibration, on the validation queries of the FAQ pack (CLINC150 val + train OOS and
BANKING77-OOS val, each with full and 5-paraphrase FAQs, xSID en/de/zh; sets weighted
equally, in- and out-of-scope balanced): a logistic regression of "the top answer is
right" on `score + lead` gave slope 5.36 and centre 0.600. The mean `combined` over the
seven sets peaks at threshold 0.38 (0.669) and is flat to 0.44 (0.661), where the mean
answer precision first reaches 0.85 and fewer unrelated questions get an answer, so the
default is 0.44. `benchmarks/faq_report.py --calibration` re-checks this on current code.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.types import FaqEntry, FaqMatch
from knowledge.index import RowIndex
from knowledge.text import char_features, tokenize, word_features

CHAR_WEIGHT = 0.8
"""Share of the char-trigram cosine in a row score; the rest is the word cosine."""
TOP_ROWS = 3
ROWS_WEIGHT = 0.6
"""Share of the best-rows mean in a version's score; the rest is its pooled text."""
CANDIDATE_ROWS = 96
CANDIDATE_VERSIONS = 16
RESCORED_VERSIONS = 8
LEAD_DAMPING = 0.1
"""Keeps a weak match's lead over an even weaker runner-up from looking decisive."""
CONFIDENCE_SLOPE = 5.36
CONFIDENCE_CENTER = 0.600
DEFAULT_MIN_SCORE = 0.44

Features = tuple[list[str], list[str]]


@dataclass(frozen=True, slots=True)
class _Version:
    entry: FaqEntry
    rows: int


@dataclass(frozen=True, slots=True)
class _Ranked:
    faq_id: str
    score: float
    version: int


def confidence(score: float, rival: float) -> float:
    """Map a raw similarity and its relative lead over the rival entry into [0, 1]."""
    lead = (score - rival) / (score + LEAD_DAMPING) if score > 0.0 else 0.0
    z = CONFIDENCE_SLOPE * (score + lead - CONFIDENCE_CENTER)
    return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0


class FaqMatcher:
    """Implements `bot.types.KnowledgeSearch` over a fixed list of FAQ entries."""

    def __init__(self, entries: Sequence[FaqEntry], *, min_score: float | None = None) -> None:
        self.min_score = DEFAULT_MIN_SCORE if min_score is None else min_score
        by_key: dict[tuple[str, str], FaqEntry] = {}
        for entry in entries:  # a repeated (faq_id, language) pair: the last one wins
            by_key[(entry.faq_id, entry.language)] = entry
        self._versions: list[_Version] = []
        self._by_language: dict[tuple[str, str], int] = {}
        self._row_version: list[int] = []
        self._pooled_version: list[int] = []
        self._pooled_row: dict[int, int] = {}
        rows: list[Features] = []
        pooled: list[Features] = []
        for key, entry in by_key.items():
            number = len(self._versions)
            features = [_features(text) for text in _row_texts(entry)]
            self._versions.append(_Version(entry, len(features)))
            self._by_language[key] = number
            rows.extend(features)
            self._row_version.extend([number] * len(features))
            if len(features) > 1:
                pooled.append(
                    ([f for w, _ in features for f in w], [f for _, c in features for f in c])
                )
                self._pooled_row[number] = len(self._pooled_version)
                self._pooled_version.append(number)
        self._rows = RowIndex(rows, char_weight=CHAR_WEIGHT)
        self._pooled = RowIndex(pooled, char_weight=CHAR_WEIGHT)
        self._faq_ids = len({faq_id for faq_id, _ in by_key})

    @property
    def size(self) -> int:
        """Number of distinct FAQ entries (faq_id), whatever their language versions."""
        return self._faq_ids

    def best_match(self, question: str, language: str | None) -> FaqMatch | None:
        """The winning entry if its confidence reaches `min_score`; None means decline."""
        found = self.search(question, language, limit=1)
        if found and found[0].score >= self.min_score:
            return found[0]
        return None

    def search(self, question: str, language: str | None, *, limit: int) -> list[FaqMatch]:
        """Entries ranked by confidence, one per faq_id, with no threshold applied."""
        ranked = self._rank(question)
        if not ranked:
            return []
        best = ranked[0].score
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        matches = []
        for item in ranked[:limit]:
            rival = runner_up if item is ranked[0] else best
            entry = self._entry_for(item, language)
            matches.append(FaqMatch(entry=entry, score=confidence(item.score, rival)))
        return matches

    def _rank(self, question: str) -> list[_Ranked]:
        """FAQ entries by raw similarity, best first; an entry scores its best version."""
        words, chars = _features(question)
        best: dict[str, _Ranked] = {}
        for number, value in self._version_scores(words, chars).items():
            faq_id = self._versions[number].entry.faq_id
            current = best.get(faq_id)
            if current is None or value > current.score:
                best[faq_id] = _Ranked(faq_id, value, number)
        return sorted(best.values(), key=lambda item: item.score, reverse=True)

    def _version_scores(self, words: list[str], chars: list[str]) -> dict[int, float]:
        """Blend of a version's best rows and its pooled text, for versions worth scoring."""
        top: dict[int, list[float]] = {}
        query = self._rows.query_vector(words, chars)
        for row, score in self._rows.top_rows(query, CANDIDATE_ROWS):
            scores = top.setdefault(self._row_version[row], [])
            if len(scores) < TOP_ROWS:
                scores.append(score)
        pooled: dict[int, float] = {}
        if len(self._pooled):
            query = self._pooled.query_vector(words, chars)
            for row, score in self._pooled.top_rows(query, CANDIDATE_VERSIONS):
                pooled[self._pooled_version[row]] = score
            # The leaders by rows must not lose their pooled part to candidate selection:
            # an underrated runner-up would inflate the winner's lead.
            for number in heapq.nlargest(RESCORED_VERSIONS, top, key=lambda n: sum(top[n])):
                pooled_row = self._pooled_row.get(number)
                if pooled_row is not None and number not in pooled:
                    pooled[number] = self._pooled.scores(query, [pooled_row])[0]
        values: dict[int, float] = {}
        for number in top.keys() | pooled.keys():
            rows = self._versions[number].rows
            scores = top.get(number, [])
            best_rows = sum(scores) / min(TOP_ROWS, rows)
            whole = pooled.get(number, 0.0) if rows > 1 else best_rows
            values[number] = ROWS_WEIGHT * best_rows + (1.0 - ROWS_WEIGHT) * whole
        return values

    def _entry_for(self, item: _Ranked, language: str | None) -> FaqEntry:
        """The customer's language version when there is one, else the one that matched."""
        if language is not None:
            number = self._by_language.get((item.faq_id, language))
            if number is not None:
                return self._versions[number].entry
        return self._versions[item.version].entry


def _features(text: str) -> Features:
    tokens = tokenize(text)
    return word_features(tokens), char_features(tokens)


def _row_texts(entry: FaqEntry) -> list[str]:
    texts = (text.strip() for text in (entry.question, *entry.paraphrases))
    return list(dict.fromkeys(text for text in texts if text))
