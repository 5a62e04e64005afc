"""FaqMatcher: answer from the FAQ when a match is clearly good, else decline.

Every question and paraphrase of every language version is one row of a `RowIndex`;
each version with several rows is also indexed as one pooled text (its centroid, in
effect). A version scores 0.6 × the mean of its best three rows + 0.4 × its pooled
text: one lucky paraphrase is weaker evidence than several. An FAQ entry scores its
best version. With a `SemanticIndex` (the embeddings extra), that lexical score is
blended with the embedding similarity of the message to each version. The confidence
(`knowledge.confidence`) turns the winner's score, its lead over the runner-up, the
share of the message its closest paraphrases cover, whether they agree on "not" and
whether the entry does what the message asks (`knowledge.actions`) into one number that
a single threshold declines on.

A match carries the version in the customer's language when the entry has one;
otherwise the version that matched, and `FaqMatch.needs_translation` tells the caller
(the LLM layer translates it, or the answer goes out as written).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass

from bot.types import FaqEntry, FaqMatch
from knowledge import confidence as calibration
from knowledge.actions import actions, disagree
from knowledge.confidence import Evidence
from knowledge.index import QueryTerms, RowIndex, highest, query_terms
from knowledge.semantic import SemanticIndex
from knowledge.text import char_features, negated, tokenize, word_features

CHAR_WEIGHT = 0.8
"""Share of the char-trigram cosine in a row score; the rest is the word cosine."""
TOP_ROWS = 3
ROWS_WEIGHT = 0.6
"""Share of the best-rows mean in a version's score; the rest is its pooled text."""
CANDIDATE_ROWS = 96
CANDIDATE_VERSIONS = 16
RESCORED_VERSIONS = 8
DEFAULT_MIN_SCORE = calibration.DEFAULT_MIN_SCORE
CONTRADICTION_ROWS = calibration.CONTRADICTION_ROWS

Features = tuple[list[str], list[str]]


@dataclass(frozen=True, slots=True)
class _Version:
    entry: FaqEntry
    rows: int
    first_row: int
    actions: frozenset[str]
    """What its rows ask to do, together (`knowledge.actions`)."""


@dataclass(frozen=True, slots=True)
class _Ranked:
    faq_id: str
    score: float
    version: int


@dataclass(slots=True)
class _Scored:
    """Version scores of one question, with each version's closest rows, best first."""

    values: dict[int, float]
    closest: dict[int, list[int]]


class FaqMatcher:
    """Implements `bot.types.KnowledgeSearch` over a fixed list of FAQ entries."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        *,
        min_score: float | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self._semantic = semantic
        default = semantic.min_score if semantic is not None else DEFAULT_MIN_SCORE
        self.min_score = default if min_score is None else min_score
        by_key: dict[tuple[str, str], FaqEntry] = {}
        for entry in entries:  # a repeated (faq_id, language) pair: the last one wins
            by_key[(entry.faq_id, entry.language)] = entry
        self._versions: list[_Version] = []
        self._by_language: dict[tuple[str, str], int] = {}
        self._row_version: list[int] = []
        self._row_negated: list[bool] = []
        self._pooled_version: list[int] = []
        self._pooled_row: dict[int, int] = {}
        rows: list[Features] = []
        pooled: list[Features] = []
        for key, entry in by_key.items():
            number = len(self._versions)
            texts = [tokenize(text) for text in _row_texts(entry)]
            features = [(word_features(tokens), char_features(tokens)) for tokens in texts]
            self._row_negated.extend(negated(tokens) for tokens in texts)
            named = frozenset(action for tokens in texts for action in actions(tokens))
            self._versions.append(_Version(entry, len(features), len(rows), named))
            self._by_language[key] = number
            rows.extend(features)
            self._row_version.extend([number] * len(features))
            if len(features) > 1:
                pooled.append(
                    ([f for w, _ in features for f in w], [f for _, c in features for f in c])
                )
                self._pooled_row[number] = len(self._pooled_version)
                self._pooled_version.append(number)
        self._faq_id_of = [version.entry.faq_id for version in self._versions]
        self._rows = RowIndex(rows, char_weight=CHAR_WEIGHT)
        self._pooled = RowIndex(pooled, char_weight=CHAR_WEIGHT)
        self._faq_ids = len({faq_id for faq_id, _ in by_key})
        if semantic is not None:
            semantic.align([version.entry for version in self._versions])

    @property
    def size(self) -> int:
        """Number of distinct FAQ entries (faq_id), whatever their language versions."""
        return self._faq_ids

    @property
    def semantic(self) -> bool:
        """True when embedding similarity is blended in."""
        return self._semantic is not None

    @property
    def entries(self) -> list[FaqEntry]:
        """Every language version, in index order."""
        return [version.entry for version in self._versions]

    def best_match(self, question: str, language: str | None) -> FaqMatch | None:
        """The winning entry if its confidence reaches `min_score`; None means decline."""
        found = self.search(question, language, limit=1)
        if found and found[0].score >= self.min_score:
            return found[0]
        return None

    def search(self, question: str, language: str | None, *, limit: int) -> list[FaqMatch]:
        """Entries ranked by raw similarity, one per faq_id, with no threshold applied.

        Each carries its confidence; a runner-up's is measured against the winner.
        """
        matches = []
        for item, evidence in self._weigh(question, language, limit):
            matches.append(
                FaqMatch(
                    entry=self._entry_for(item, language),
                    score=self._confidence(evidence),
                    requested_language=language,
                )
            )
        return matches

    def evidence(self, question: str, language: str | None) -> tuple[str, Evidence] | None:
        """The best entry's id and the evidence its confidence is computed from."""
        found = self._weigh(question, language, 1)
        return (found[0][0].faq_id, found[0][1]) if found else None

    def _confidence(self, evidence: Evidence) -> float:
        if self._semantic is not None:
            return self._semantic.confidence(evidence, self._faq_ids)
        return calibration.confidence(evidence)

    def _weigh(
        self, question: str, language: str | None, limit: int
    ) -> list[tuple[_Ranked, Evidence]]:
        """The best `limit` entries with the evidence for each."""
        tokens = tokenize(question)
        scored = self._version_scores(query_terms(word_features(tokens), char_features(tokens)))
        ranked = self._rank(question, scored.values, limit)
        if not ranked:
            return []
        best = ranked[0].score
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        asked = actions(tokens)
        found = []
        for item in ranked[:limit]:
            rival = runner_up if item is ranked[0] else best
            other_action = disagree(asked, self._versions[item.version].actions)
            if (
                self._semantic is not None
                and self._versions[item.version].entry.language != language
            ):
                # Lexical coverage says nothing about a match across languages; the
                # action lexicons span all of them.
                found.append((item, Evidence(item.score, rival, other_action=other_action)))
                continue
            closest = scored.closest.get(item.version, [])
            evidence = Evidence(
                item.score,
                rival,
                # With embeddings a paraphrase in other words is expected (see
                # knowledge.semantic): the explained-share gate is lexical only.
                explained=1.0
                if self._semantic is not None
                else calibration.explained_share(tokens, self._known(item.version)),
                covered=calibration.covered_share(
                    tokens, self._rows_known(closest), self._rows.idf
                ),
                contradicts=self._contradicts(tokens, closest),
                other_action=other_action,
            )
            found.append((item, evidence))
        return found

    def _rank(self, question: str, values: dict[int, float], limit: int) -> list[_Ranked]:
        """The best `limit` FAQ entries (at least two: the lead needs the runner-up) by raw
        similarity, best first; an entry scores its best version."""
        if self._semantic is not None:
            values = self._semantic.blend(question, values)
        best: dict[str, float] = {}
        best_version: dict[str, int] = {}
        faq_id_of = self._faq_id_of
        for number, value in values.items():
            faq_id = faq_id_of[number]
            current = best.get(faq_id)
            if current is None or value > current:
                best[faq_id] = value
                best_version[faq_id] = number
        leaders = highest(best, max(limit, 2))
        return [_Ranked(faq_id, value, best_version[faq_id]) for faq_id, value in leaders]

    def _version_scores(self, terms: QueryTerms) -> _Scored:
        """Blend of a version's best rows and its pooled text, for versions worth scoring."""
        top: dict[int, list[float]] = {}
        closest: dict[int, list[int]] = {}
        row_version = self._row_version
        for row, score in self._rows.top_rows(self._rows.weigh(terms), CANDIDATE_ROWS):
            number = row_version[row]
            nearest = closest.get(number)
            if nearest is None:
                closest[number] = [row]
                top[number] = [score]
            elif len(nearest) < calibration.COVERAGE_ROWS:
                nearest.append(row)
                if len(nearest) <= TOP_ROWS:
                    top[number].append(score)
        pooled: dict[int, float] = {}
        if len(self._pooled):
            query = self._pooled.weigh(terms)
            pooled_version = self._pooled_version
            for row, score in self._pooled.top_rows(query, CANDIDATE_VERSIONS):
                pooled[pooled_version[row]] = score
            # The leaders by rows must not lose their pooled part to candidate selection:
            # an underrated runner-up would inflate the winner's lead.
            pooled_row = self._pooled_row
            unscored = [n for n in top if n not in pooled and n in pooled_row]
            if unscored:
                sums = {number: sum(scores) for number, scores in top.items()}
                leaders = [n for n, _ in highest(sums, RESCORED_VERSIONS)]
                missing = [
                    (n, pooled_row[n]) for n in leaders if n not in pooled and n in pooled_row
                ]
                found = self._pooled.scores(query, [row for _, row in missing])
                pooled.update(zip((number for number, _ in missing), found, strict=True))
        values: dict[int, float] = {}
        versions = self._versions
        rest = 1.0 - ROWS_WEIGHT
        for number in top.keys() | pooled.keys():
            rows = versions[number].rows
            scores = top.get(number) or []
            best_rows = sum(scores) / (rows if rows < TOP_ROWS else TOP_ROWS)
            whole = pooled.get(number, 0.0) if rows > 1 else best_rows
            values[number] = ROWS_WEIGHT * best_rows + rest * whole
        return _Scored(values, closest)

    def _rows_known(self, rows: list[int]) -> Container[str]:
        """Every feature of the given rows."""
        if len(rows) == 1:
            return self._rows.features_of(rows[0])
        known: set[str] = set()
        for row in rows:
            self._rows.add_features(known, row)
        return known

    def _contradicts(self, tokens: list[str], closest: list[int]) -> bool:
        """The message and the version's closest rows disagree on "not"."""
        if not closest:
            return False
        if negated(tokens):
            return not any(self._row_negated[row] for row in closest[:CONTRADICTION_ROWS])
        return self._row_negated[closest[0]]

    def _known(self, number: int) -> Container[str]:
        """Every feature of a version: its pooled text, or its only row."""
        pooled_row = self._pooled_row.get(number)
        if pooled_row is not None:
            return self._pooled.features_of(pooled_row)
        return self._rows.features_of(self._versions[number].first_row)

    def _entry_for(self, item: _Ranked, language: str | None) -> FaqEntry:
        """The customer's language version when there is one, else the one that matched."""
        if language is not None:
            number = self._by_language.get((item.faq_id, language))
            if number is not None:
                return self._versions[number].entry
        return self._versions[item.version].entry


def _row_texts(entry: FaqEntry) -> list[str]:
    texts = (text.strip() for text in (entry.question, *entry.paraphrases))
    return list(dict.fromkeys(text for text in texts if text))
