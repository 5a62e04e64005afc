"""A TF-IDF row index that stays fast in pure Python at tens of thousands of rows.

Scoring is a blend of two cosine similarities, char-trigram TF-IDF and word TF-IDF
(sublinear tf, smoothed idf, L2 per family). When the query's posting lists are short
(a small FAQ, or rare words), the exact scores are summed along them: a few hundred
additions, ~20 µs. A query has up to 64 features, though, and a common trigram sits in
thousands of rows of a large FAQ, where walking the posting lists costs ~20 ms per query
at 15,000 rows. There a query is answered in two steps instead:

1. Candidates: every feature has a bitset of the rows containing it (a Python int).
   The query's features are added, weighted by a 4-bit level, into bit-sliced counters
   (one int per binary digit), so one big-int operation updates every row at once; a
   radix select over those counters keeps the `limit` rows with the highest totals.
2. Exact cosine for those rows only, by intersecting key tuples with the query vector.

Bitsets of rare features are built at query time from their posting tuple, which keeps
memory at a few MB per 10,000 rows.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from operator import itemgetter, mul
from typing import TypeVar

from knowledge.text import WORD_MARK

Key = TypeVar("Key")

_LEVEL_BITS = 4
_LEVELS = (1 << _LEVEL_BITS) - 1
_PRECOMPUTED_MIN_DF = 24
"""Features in fewer rows get their bitset built per query (cheap), saving memory."""
MAX_QUERY_FEATURES = 52
"""A long message keeps its heaviest features only, which bounds the time per query (at
10,000 rows p99 1.4 ms; 64 features: 1.6-1.9 ms for the same accuracy within 0.004)."""
EXACT_POSTINGS = 4096
"""Queries whose posting lists hold fewer entries in all are scored along them exactly:
below this, summing is cheaper than the bitset candidate selection (measured)."""


HEAP_SELECT_FROM = 2000
"""Below this many items, sorting them all (in C) is faster than heap selection (2-4x at
a few hundred items, measured)."""

_WEIGHTED_MIN_FEATURES = 64
"""Rows this long (an entry's pooled paraphrases) keep a weight dict instead of key tuples."""


@dataclass(frozen=True, slots=True)
class _Row:
    """One indexed text. Short rows store keys only: with tf = 1 a feature weighs idf × scale."""

    chars: tuple[str, ...]
    words: tuple[str, ...]
    char_scale: float
    """Blend weight divided by the row's char-vector norm."""
    word_scale: float
    repeats: tuple[tuple[str, float], ...]
    """Features seen more than once and their extra sublinear tf (log tf × scale)."""
    weights: dict[str, float] | None = None
    """Long rows only: every feature's full weight without idf (which the query carries)."""

    def features(self) -> Iterable[tuple[str, float]]:
        if self.weights is not None:
            return self.weights.items()
        return [(f, self.char_scale) for f in self.chars] + [
            (f, self.word_scale) for f in self.words
        ]


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """A query's features with their sublinear term frequencies (1 + log tf), per family."""

    words: dict[str, float]
    chars: dict[str, float]


def query_terms(words: Sequence[str], chars: Sequence[str]) -> QueryTerms:
    return QueryTerms(_sublinear(words), _sublinear(chars))


def _sublinear(features: Sequence[str]) -> dict[str, float]:
    counts = Counter(features)
    if len(counts) == len(features):
        return dict.fromkeys(counts, 1.0)
    return {f: 1.0 + math.log(n) for f, n in counts.items()}


def _bitset(rows: Iterable[int], n_bytes: int) -> int:
    buffer = bytearray(n_bytes)
    for row in rows:
        buffer[row >> 3] |= 1 << (row & 7)
    return int.from_bytes(buffer, "little")


def _set_bits(value: int) -> list[int]:
    digits = bin(value)[:1:-1]
    found: list[int] = []
    position = digits.find("1")
    while position >= 0:
        found.append(position)
        position = digits.find("1", position + 1)
    return found


class RowIndex:
    """Rows of (word features, char features); `top_rows` returns exact blended cosines."""

    def __init__(
        self, rows: Sequence[tuple[Sequence[str], Sequence[str]]], *, char_weight: float
    ) -> None:
        self._char_weight = char_weight
        self._word_weight = 1.0 - char_weight
        self._size = len(rows)
        self._bytes = self._size // 8 + 1
        df: Counter[str] = Counter()
        for words, chars in rows:
            df.update(set(words))
            df.update(set(chars))
        total = self._size
        self._idf = {f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in df.items()}
        self._unseen_idf = math.log(1 + total) + 1.0
        self._rows = [self._row(words, chars) for words, chars in rows]
        postings: dict[str, list[int]] = {f: [] for f in df}
        weights: dict[str, array[float]] = {f: array("d") for f in df}
        weight_sum: dict[str, float] = dict.fromkeys(df, 0.0)
        for number, row in enumerate(self._rows):
            extra = dict(row.repeats)
            for feature, weight in row.features():
                postings[feature].append(number)
                weights[feature].append(weight + extra.get(feature, 0.0))
                weight_sum[feature] += weight
        self._postings = {f: tuple(p) for f, p in postings.items()}
        self._weights = weights
        """Per feature, each posting's full row-side weight (sublinear tf × scale, no idf)."""
        self._typical = {f: weight_sum[f] / df[f] for f in df}
        """A feature's mean row-side scale where it occurs: what it adds to a typical row."""
        self._bitsets = {
            f: _bitset(p, self._bytes)
            for f, p in self._postings.items()
            if len(p) >= _PRECOMPUTED_MIN_DF
        }

    def __len__(self) -> int:
        return self._size

    def idf(self, feature: str) -> float:
        """A feature's idf; a feature no row has weighs most."""
        return self._idf.get(feature, self._unseen_idf)

    def _row(self, words: Sequence[str], chars: Sequence[str]) -> _Row:
        char_tf, word_tf = Counter(chars), Counter(words)
        char_scale = self._char_weight / (_norm(char_tf, self._idf) or 1.0)
        word_scale = self._word_weight / (_norm(word_tf, self._idf) or 1.0)
        if len(char_tf) + len(word_tf) >= _WEIGHTED_MIN_FEATURES:
            weights = {f: (1.0 + math.log(n)) * char_scale for f, n in char_tf.items()}
            weights.update({f: (1.0 + math.log(n)) * word_scale for f, n in word_tf.items()})
            return _Row((), (), char_scale, word_scale, (), weights)
        repeats = tuple(
            (f, math.log(n) * (word_scale if f[0] == WORD_MARK else char_scale))
            for f, n in (char_tf + word_tf).items()
            if n > 1
        )
        return _Row(tuple(char_tf), tuple(word_tf), char_scale, word_scale, repeats)

    def query_vector(self, words: Sequence[str], chars: Sequence[str]) -> dict[str, float]:
        """Query weights with the row-side idf folded in: cosine = Σ q[f] × row scale."""
        return self.weigh(query_terms(words, chars))

    def weigh(self, terms: QueryTerms) -> dict[str, float]:
        """`query_vector` from terms counted once for several indexes."""
        vector: dict[str, float] = {}
        idf_of = self._idf.get
        unseen = self._unseen_idf
        for tf, share in ((terms.chars, self._char_weight), (terms.words, self._word_weight)):
            if not tf or not share:
                continue
            known = [(f, t, idf_of(f)) for f, t in tf.items()]
            norm = math.sqrt(
                sum((t * (unseen if idf is None else idf)) ** 2 for _, t, idf in known)
            )
            for feature, t, idf in known:
                if idf is not None:
                    vector[feature] = t * idf * idf / norm
        if len(vector) > MAX_QUERY_FEATURES:
            vector = dict(highest(vector, MAX_QUERY_FEATURES))
        return vector

    def top_rows(self, query: dict[str, float], limit: int) -> list[tuple[int, float]]:
        """The best `limit` rows with their exact scores, best first."""
        if not query or not self._size:
            return []
        postings = self._postings
        if sum(map(len, map(postings.__getitem__, query))) <= EXACT_POSTINGS:
            return highest(self._summed(query), limit)
        candidates = self._candidates(query, limit) if self._size > limit else range(self._size)
        found = zip(candidates, self.scores(query, candidates), strict=True)
        scored = [item for item in found if item[1] > 0.0]
        scored.sort(key=itemgetter(1), reverse=True)
        return scored

    def _summed(self, query: dict[str, float]) -> dict[int, float]:
        """Exact scores of every row sharing a feature with the query, along the postings."""
        postings, weights = self._postings, self._weights
        totals: dict[int, float] = {}
        get = totals.get
        for feature, value in query.items():
            for row, weight in zip(postings[feature], weights[feature]):  # noqa: B905
                totals[row] = get(row, 0.0) + value * weight
        return totals

    def features_of(self, number: int) -> AbstractSet[str]:
        """Every feature of one row, for membership tests."""
        row = self._rows[number]
        if row.weights is not None:
            return row.weights.keys()
        return frozenset(row.chars).union(row.words)

    def add_features(self, known: set[str], number: int) -> None:
        """Add every feature of one row to `known`."""
        row = self._rows[number]
        if row.weights is not None:
            known.update(row.weights)
        else:
            known.update(row.chars)
            known.update(row.words)

    def scores(self, query: dict[str, float], numbers: Iterable[int]) -> list[float]:
        """Exact blended cosines between a query vector and the given rows."""
        get = query.__getitem__
        keys = query.keys()
        common = set(query).intersection  # fastest for short rows: walks the row's tuple
        found = []
        for number in numbers:
            row = self._rows[number]
            if row.weights is not None:
                shared = keys & row.weights.keys()  # walks the shorter side
                found.append(float(sum(map(mul, map(get, shared), map(row.weights.get, shared)))))
                continue
            score = sum(map(get, common(row.chars))) * row.char_scale
            if row.words:
                score += sum(map(get, common(row.words))) * row.word_scale
            for feature, extra in row.repeats:
                if feature in query:
                    score += query[feature] * extra
            found.append(score)
        return found

    def _candidates(self, query: dict[str, float], limit: int) -> list[int]:
        """Radix-select the rows with the highest weighted feature counts."""
        values = {f: w * self._typical[f] for f, w in query.items()}
        top = max(values.values())
        planes: list[int] = []
        touched = 0
        for feature, value in values.items():
            level = round(_LEVELS * value / top)
            if not level:
                continue
            bits = self._bitsets.get(feature)
            if bits is None:
                bits = _bitset(self._postings[feature], self._bytes)
            touched |= bits
            _add(planes, bits, level)
        if touched.bit_count() <= limit:
            return _set_bits(touched)
        above, equal = 0, touched
        for plane in reversed(planes):
            ones = equal & plane
            if (above | ones).bit_count() >= limit:
                equal = ones
            else:
                above |= ones
                equal &= ~plane
        chosen = _set_bits(above)
        chosen.extend(_set_bits(equal)[: max(0, limit - len(chosen))])
        return chosen


def highest(values: Mapping[Key, float], limit: int) -> list[tuple[Key, float]]:
    """The `limit` highest (key, value) pairs, best first, ties in insertion order."""
    if len(values) > HEAP_SELECT_FROM:
        return heapq.nlargest(limit, values.items(), key=itemgetter(1))
    return sorted(values.items(), key=itemgetter(1), reverse=True)[:limit]


def _add(planes: list[int], bits: int, level: int) -> None:
    """Add `level` × bits to the bit-sliced counters in `planes` (LSB first)."""
    digit = 0
    while level:
        if level & 1:
            carry = bits
            position = digit
            while carry:
                if position == len(planes):
                    planes.append(carry)
                    break
                plane = planes[position]
                planes[position] = plane ^ carry
                carry &= plane
                position += 1
        level >>= 1
        digit += 1
        while len(planes) < digit:
            planes.append(0)


def _norm(tf: Counter[str], idf: dict[str, float]) -> float:
    return math.sqrt(sum(((1.0 + math.log(n)) * idf[f]) ** 2 for f, n in tf.items()))
