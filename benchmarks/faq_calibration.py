"""Refit the FAQ confidence calibration and rescan the default decline threshold.

    .venv/bin/python -m benchmarks.faq_report --calibration [--embeddings]

For every calibration set (the FAQ pack's validation queries with full and 5-paraphrase
FAQs, xSID en/de/zh, and the sample-FAQ probe set) the matcher's evidence for its top
answer is collected. A logistic regression of "the top answer is right" on the terms the
shipped confidence uses is refitted by Newton steps (sets weighted equally, in- and
out-of-scope balanced) and printed next to the shipped coefficients, with each coefficient
also refitted alone, the others held at their shipped values. Then the mean
harmonic mean of in-scope accuracy and out-of-scope recall over the sets is scanned with
the shipped confidence: the default threshold is the highest one within
`knowledge.confidence.PLATEAU` of its peak (precision before coverage). With
`--embeddings` the same is done for the blended (semantic) confidence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.faq_matcher import build_matcher
from bot.types import FaqEntry
from knowledge import confidence as lexical
from knowledge import semantic
from knowledge.confidence import Evidence
from knowledge.faq import FaqMatcher
from knowledge.importer import SAMPLE_FAQ_PATH, load_faq_file

Json = dict[str, Any]
SAMPLE_QUERIES = Path(__file__).with_name("data") / "sample_faq_queries.jsonl"
CLINC_ALL = ("clinc150/queries_val.jsonl", "clinc150/queries_train_oos.jsonl")
BANK_OOS = ("banking77_oos/queries_val.jsonl",)
XSID = ("xsid/queries_val.jsonl",)
PACK_SETS = (
    ("CLINC150 full (+train OOS)", "clinc150/faq_full.jsonl", CLINC_ALL, None),
    ("BANKING77-OOS full", "banking77_oos/faq_full.jsonl", BANK_OOS, None),
    ("CLINC150 k5 (+train OOS)", "clinc150/faq_k5.jsonl", CLINC_ALL, None),
    ("BANKING77-OOS k5", "banking77_oos/faq_k5.jsonl", BANK_OOS, None),
    ("xSID en k5", "xsid/faq_en_k5.jsonl", XSID, "en"),
    ("xSID de k5", "xsid/faq_de_k5.jsonl", XSID, "de"),
    ("xSID zh k5", "xsid/faq_zh_k5.jsonl", XSID, "zh"),
)
SEMANTIC_EXTRA = (
    ("xSID en FAQ -> de", "xsid/faq_en_k5.jsonl", XSID, "de"),
    ("xSID en FAQ -> zh", "xsid/faq_en_k5.jsonl", XSID, "zh"),
)


@dataclass(frozen=True, slots=True)
class Model:
    """One calibrated confidence: its regression terms, shipped coefficients and map."""

    name: str
    terms: Callable[[Evidence, int], Sequence[float]]
    """The regression's inputs from the evidence and the FAQ's size (entries)."""
    shipped: tuple[float, ...]
    """Slopes in the order of `terms`, then the intercept."""
    labels: tuple[str, ...]
    default: float
    confidence: Callable[[Evidence, int], float]
    """The shipped confidence."""


LEXICAL = Model(
    "lexical",
    lambda evidence, _: evidence.terms(),
    (
        lexical.SLOPE_COVERED,
        lexical.SLOPE_LEAD,
        lexical.SLOPE_CONTRADICTS,
        lexical.SLOPE_OTHER_ACTION,
        lexical.INTERCEPT,
    ),
    ("SLOPE_COVERED", "SLOPE_LEAD", "SLOPE_CONTRADICTS", "SLOPE_OTHER_ACTION", "INTERCEPT"),
    lexical.DEFAULT_MIN_SCORE,
    lambda evidence, _: lexical.confidence(evidence),
)
SEMANTIC = Model(
    "semantic",
    semantic.terms,
    (*semantic.SLOPES, semantic.INTERCEPT),
    (
        "SLOPE_SCORE",
        "SLOPE_COVERED",
        "SLOPE_LEAD",
        "SLOPE_CONTRADICTS",
        "SLOPE_OTHER_ACTION",
        "SLOPE_LEAD_BY_SIZE",
        "SLOPE_SCORE_BY_SIZE",
        "SLOPE_SIZE",
        "INTERCEPT",
    ),
    semantic.DEFAULT_MIN_SCORE,
    semantic.confidence,
)


@dataclass(frozen=True, slots=True)
class CalibrationSet:
    name: str
    entries: int
    """The FAQ's size (distinct entries)."""
    queries: list[Json]
    found: list[tuple[str, Evidence, float] | None]
    """Per query: the top answer's id, its evidence and its shipped confidence."""


def read_queries(path: Path, lang: str | None) -> list[Json]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [row for row in rows if lang is None or row.get("lang") == lang]


def collect(model: Model, matcher: FaqMatcher, name: str, queries: list[Json]) -> CalibrationSet:
    found: list[tuple[str, Evidence, float] | None] = []
    for query in queries:
        weighed = matcher.evidence(query["text"], query.get("lang"))
        if weighed is None:
            found.append(None)
            continue
        faq_id, evidence = weighed
        found.append((faq_id, evidence, model.confidence(evidence, matcher.size)))
    return CalibrationSet(name, matcher.size, queries, found)


def calibration_sets(pack: Path, model: Model, *, embeddings: bool) -> list[CalibrationSet]:
    sets = []
    for name, faq, query_files, lang in PACK_SETS + (SEMANTIC_EXTRA if embeddings else ()):
        matcher = build_matcher(pack / faq, embeddings=embeddings, min_score=0.0)
        queries = [q for f in query_files for q in read_queries(pack / f, lang)]
        sets.append(collect(model, matcher, name, queries))
        print(f"  collected {name}", flush=True)
    sample: list[FaqEntry] = load_faq_file(SAMPLE_FAQ_PATH)
    matcher = _sample_matcher(sample, embeddings=embeddings)
    probes = read_queries(SAMPLE_QUERIES, None)
    sets.append(collect(model, matcher, "sample FAQ probes", probes))
    return sets


def _sample_matcher(entries: list[FaqEntry], *, embeddings: bool) -> FaqMatcher:
    if not embeddings:
        return FaqMatcher(entries, min_score=0.0)
    from knowledge.embeddings import load_local_embedder

    embedder = load_local_embedder()
    if embedder is None:
        raise SystemExit("--embeddings needs the extra: pip install 'helpline[embeddings]'")
    blocks = semantic.embed_entries(embedder, entries)
    vectors = {(e.faq_id, e.language): b for e, b in zip(entries, blocks, strict=True)}
    return FaqMatcher(entries, min_score=0.0, semantic=semantic.SemanticIndex(embedder, vectors))


Point = tuple[list[float], float, float]
"""One top answer: the regression's inputs (then 1.0), 1.0 if right, its weight."""


def points(model: Model, sets: list[CalibrationSet]) -> list[Point]:
    """Every top answer, sets weighted equally, in- and out-of-scope balanced."""
    data: list[Point] = []
    for calibration_set in sets:
        queries = calibration_set.queries
        n_oos = sum(q["expected_faq_id"] is None for q in queries)
        n_in = len(queries) - n_oos
        for query, found in zip(queries, calibration_set.found, strict=True):
            if found is None:
                continue
            expected = query["expected_faq_id"]
            weight = 0.5 / (n_oos if expected is None else n_in) / len(sets)
            x = [*model.terms(found[1], calibration_set.entries), 1.0]
            data.append((x, float(expected is not None and found[0] == expected), weight))
    return data


def fit(model: Model, data: list[Point]) -> list[float]:
    """Weighted logistic regression of "top answer right" on the model's terms."""
    size = len(model.shipped)
    beta = [0.0] * size
    for _ in range(40):
        gradient = [0.0] * size
        hessian = [[0.0] * size for _ in range(size)]
        for x, y, w in data:
            z = max(-50.0, min(50.0, sum(b * v for b, v in zip(beta, x, strict=True))))
            p = 1.0 / (1.0 + math.exp(-z))
            for i in range(size):
                gradient[i] += w * (p - y) * x[i]
                for j in range(size):
                    hessian[i][j] += w * p * (1 - p) * x[i] * x[j]
        step = _solve(hessian, gradient)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return beta


def fit_alone(model: Model, data: list[Point], term: int) -> float:
    """One coefficient refitted with the others held at their shipped values."""
    held = [sum(b * v for b, v in zip(model.shipped, x, strict=True)) for x, _, _ in data]
    slope = model.shipped[term]
    for _ in range(60):
        gradient = hessian = 0.0
        for (x, y, w), offset in zip(data, held, strict=True):
            z = offset + (slope - model.shipped[term]) * x[term]
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
            gradient += w * (p - y) * x[term]
            hessian += w * p * (1 - p) * x[term] ** 2
        if hessian <= 0.0:
            break
        step = gradient / hessian
        slope -= step
        if abs(step) < 1e-9:
            break
    return slope


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems here have up to 8 unknowns)."""
    size = len(vector)
    rows = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for r in range(column + 1, size):
            factor = rows[r][column] / rows[column][column]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[column], strict=True)]
    solution = [0.0] * size
    for r in reversed(range(size)):
        known = sum(rows[r][c] * solution[c] for c in range(r + 1, size))
        solution[r] = (rows[r][size] - known) / rows[r][r]
    return solution


def scan(evaluator: ModuleType, sets: list[CalibrationSet]) -> list[tuple[float, list[Json]]]:
    """eval.py's metrics of every set at thresholds 0.10 to 0.90, shipped confidence."""
    predictions = [
        [{"faq_id": f[0], "score": f[2]} if f else {"faq_id": None, "score": None} for f in s.found]
        for s in sets
    ]
    found = []
    for step in range(10, 91):
        threshold = step / 100
        found.append(
            (
                threshold,
                [
                    evaluator.metrics(s.queries, p, threshold, False)
                    for s, p in zip(sets, predictions, strict=True)
                ],
            )
        )
    return found


def mean(metrics: list[Json], key: str) -> float:
    return float(sum(m[key] for m in metrics)) / len(metrics)


def report(pack: Path, evaluator: ModuleType, *, embeddings: bool) -> None:
    model = SEMANTIC if embeddings else LEXICAL
    print(f"collecting the {model.name} matcher's evidence on the calibration sets")
    sets = calibration_sets(pack, model, embeddings=embeddings)
    data = points(model, sets)
    refit = fit(model, data)
    print(f"\n{model.name} calibration, refitted on current code (shipped in brackets;")
    print("alone: that coefficient refitted with the others held at their shipped values):")
    for term, (label, new, old) in enumerate(zip(model.labels, refit, model.shipped, strict=True)):
        alone = fit_alone(model, data, term)
        print(f"    {label:<18} {new:+.3f}  [{old:+.3f}]  alone {alone:+.3f}")
    results = scan(evaluator, sets)
    best = max(results, key=lambda item: mean(item[1], "combined"))
    peak = mean(best[1], "combined")
    flat = [t for t, m in results if mean(m, "combined") >= peak - lexical.PLATEAU]
    print(f"\nmean combined peaks at T = {best[0]:.2f} ({peak:.4f}) and stays within", end=" ")
    print(f"{lexical.PLATEAU} of it for T = {flat[0]:.2f} .. {flat[-1]:.2f};")
    print(f"the default is the upper end of that plateau, T = {flat[-1]:.2f}")
    shown = {best[0]: "best mean combined", flat[-1]: "upper end of the plateau"}
    shown[round(model.default, 2)] = "shipped default"
    for threshold, metrics in results:
        if threshold not in shown:
            continue
        mark = shown[threshold]
        print(f"T={threshold:.2f} ({mark}): mean combined {mean(metrics, 'combined'):.4f},", end="")
        print(f" mean answer precision {mean(metrics, 'answer_precision'):.3f}")
        for calibration_set, m in zip(sets, metrics, strict=True):
            print(f"    {calibration_set.name:<28} combined {m['combined']:.3f}", end=" ")
            print(f"precision {m['answer_precision']:.3f}")
