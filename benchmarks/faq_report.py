"""FAQ matcher report: the pack's eval.py on its validation sets, plus in-process timing.

For each setup eval.py picks the decline threshold on the validation queries (`--calib`)
and scores them in stream mode (one query at a time through a pipe); the same
predictions are also scored at the matcher's built-in default threshold. Latency is
measured in-process as well, and at 10,000 FAQ rows. `--calibration` re-checks the
confidence calibration and the default threshold documented in `knowledge/faq.py`.

    .venv/bin/python -m benchmarks.faq_report [--pack DIR] [--calibration] [--embeddings]
        [--only NAME]

`--embeddings` blends in the local model of the embeddings extra (the pack FAQs' vectors
are computed once and cached under benchmarks/results/embeddings/; the first run takes
about half an hour on two cores). The 10,000-row timing runs lexically only.

The pack folder defaults to ../shared/datasets/faq-pack next to the repository, or
$HELPLINE_FAQ_PACK. The shared 2-core box is noisy: timing rounds are repeated and the
best round is shown.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import faq_calibration
from benchmarks.faq_matcher import build_matcher, load_pack_faq
from benchmarks.faq_targets import print_targets
from bot.types import FaqEntry
from knowledge import semantic
from knowledge.faq import DEFAULT_MIN_SCORE, FaqMatcher

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACK = REPO.parent / "shared" / "datasets" / "faq-pack"
ROUNDS = 3

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Setup:
    name: str
    faq: str
    queries: tuple[str, ...]
    lang: str | None = None
    baseline: str = ""


CLINC_BASELINE = "BM25 0.705, char TF-IDF 0.742, MiniLM 0.859"
CROSS_BASELINE = "lexical top-1 0.25"
CLINC_VAL = ("clinc150/queries_val.jsonl",)
BANK_VAL = ("banking77/queries_val.jsonl",)
BANK_OOS = ("banking77_oos/queries_val.jsonl",)
XSID = ("xsid/queries_val.jsonl",)
SETUPS = (
    Setup("CLINC150 full", "clinc150/faq_full.jsonl", CLINC_VAL, None, CLINC_BASELINE),
    Setup("BANKING77 full", "banking77/faq_full.jsonl", BANK_VAL),
    Setup("BANKING77-OOS full", "banking77_oos/faq_full.jsonl", BANK_OOS),
    Setup("xSID en k5", "xsid/faq_en_k5.jsonl", XSID, "en"),
    Setup("xSID de k5", "xsid/faq_de_k5.jsonl", XSID, "de"),
    Setup("xSID zh k5", "xsid/faq_zh_k5.jsonl", XSID, "zh"),
    Setup("xSID en FAQ -> de", "xsid/faq_en_k5.jsonl", XSID, "de", CROSS_BASELINE),
    Setup("xSID en FAQ -> zh", "xsid/faq_en_k5.jsonl", XSID, "zh", CROSS_BASELINE),
)


def load_eval(pack: Path) -> ModuleType:
    """The pack's own scorer, so metrics here are exactly eval.py's."""
    spec = importlib.util.spec_from_file_location("faq_pack_eval", pack / "eval.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {pack / 'eval.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def queries_of(pack: Path, setup: Setup) -> list[Json]:
    rows: list[Json] = []
    for name in setup.queries:
        with (pack / name).open(encoding="utf-8") as lines:
            rows.extend(json.loads(line) for line in lines if line.strip())
    return [row for row in rows if setup.lang is None or row.get("lang") == setup.lang]


def run_eval(pack: Path, setup: Setup, evaluator: ModuleType, options: Options) -> Json:
    """eval.py with the threshold calibrated on the same validation queries."""
    command = f"{shlex.quote(sys.executable)} -m benchmarks.faq_matcher --faq {{faq}}"
    command += " --embeddings" if options.embeddings else ""
    queries = str(pack / setup.queries[0])
    with tempfile.TemporaryDirectory() as folder:
        preds_path = Path(folder) / "preds.jsonl"
        args = [sys.executable, str(pack / "eval.py"), "--faq", str(pack / setup.faq)]
        args += ["--calib", queries, "--queries", queries, "--cmd", command, "--json"]
        args += ["--save-preds", str(preds_path)]
        if setup.lang:
            args += ["--lang", setup.lang]
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=True)
        report: Json = json.loads(done.stdout)
        preds = [json.loads(line) for line in preds_path.read_text().splitlines()]
    report["default"] = evaluator.metrics(queries_of(pack, setup), preds, options.threshold, False)
    return report


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_queries(matcher: FaqMatcher, texts: Sequence[str]) -> tuple[float, float, float]:
    """Best of ROUNDS: (p50, p99, max) milliseconds per best_match call."""
    for text in texts[:50]:
        matcher.best_match(text, None)
    rounds = []
    for _ in range(ROUNDS):
        spent = []
        for text in texts:
            start = time.perf_counter()
            matcher.best_match(text, None)
            spent.append((time.perf_counter() - start) * 1000)
        rounds.append((percentile(spent, 0.5), percentile(spent, 0.99), max(spent)))
    return min(rounds, key=lambda r: r[1])


def build(entries: list[FaqEntry]) -> tuple[FaqMatcher, float]:
    """The matcher and its build time in seconds."""
    gc.collect()
    start = time.perf_counter()
    matcher = FaqMatcher(entries)
    return matcher, time.perf_counter() - start


def index_mb(entries: list[FaqEntry]) -> float:
    """Memory held by a matcher built from `entries` (a separate, traced build)."""
    gc.collect()
    tracemalloc.start()
    matcher = FaqMatcher(entries)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del matcher
    return held / 2**20


def ten_thousand_rows(pack: Path) -> list[tuple[str, list[FaqEntry]]]:
    """10,000 CLINC150 rows (seed 0): as 150 entries with paraphrases, and as 10,000 entries."""
    rows = load_pack_faq(pack / "clinc150/faq_full.jsonl")
    texts = [(e.faq_id, t) for e in rows for t in (e.question, *e.paraphrases)]
    sample = random.Random(0).sample(texts, 10_000)
    grouped: dict[str, list[str]] = {}
    for faq_id, text in sample:
        grouped.setdefault(faq_id, []).append(text)
    entries = [FaqEntry(i, "en", t[0], "", paraphrases=tuple(t[1:])) for i, t in grouped.items()]
    single = [FaqEntry(f"q{n}", "en", text, "") for n, (_, text) in enumerate(sample)]
    return [
        (f"{len(entries)} entries x ~67 paraphrases", entries),
        ("10000 one-row entries", single),
    ]


@dataclass(frozen=True, slots=True)
class Options:
    embeddings: bool = False
    only: str = ""
    """Run only the setups whose name contains this (case-insensitive)."""

    @property
    def threshold(self) -> float:
        """The matcher's built-in default threshold in this mode."""
        return semantic.DEFAULT_MIN_SCORE if self.embeddings else DEFAULT_MIN_SCORE

    def selected(self) -> list[Setup]:
        return [s for s in SETUPS if self.only.casefold() in s.name.casefold()]


@dataclass(frozen=True, slots=True)
class Row:
    """One setup's results: eval.py's metrics at its T and at our default, and timing."""

    metrics: Json
    default: Json
    pipe_p50: float
    build_seconds: float
    p50: float
    p99: float


def run_setup(pack: Path, setup: Setup, evaluator: ModuleType, options: Options) -> Row:
    result = run_eval(pack, setup, evaluator, options)
    start = time.perf_counter()
    matcher = build_matcher(pack / setup.faq, embeddings=options.embeddings, min_score=None)
    seconds = time.perf_counter() - start
    p50, p99, _ = time_queries(matcher, [q["text"] for q in queries_of(pack, setup)])
    timing = result["timing"]
    return Row(result["metrics"], result["default"], timing["latency_ms_p50"], seconds, p50, p99)


def report(pack: Path, options: Options) -> None:
    evaluator = load_eval(pack)
    default = f"@{options.threshold:.2f}"
    head = f"{'setup':<20} {'combined':>8} {'in_acc':>6} {'oos_rec':>7} {'prec':>5} {'top1':>5}"
    head += f" {'T':>5} | {default:>5} {'prec':>5} | {'build s':>7} {'p50':>5} {'p99':>5}"
    head += f" {'pipe p50':>8} | baseline"
    print(head)
    print("-" * len(head))
    rows: dict[str, Row] = {}
    for setup in options.selected():
        row = rows[setup.name] = run_setup(pack, setup, evaluator, options)
        m, d = row.metrics, row.default
        line = f"{setup.name:<20} {m['combined']:>8.3f} {m['in_acc']:>6.3f}"
        recall = f"{m['oos_recall']:>7.3f}" if "oos_recall" in m else f"{'-':>7}"
        threshold = f"{m['threshold']:>5.2f}" if m["threshold"] is not None else f"{'-':>5}"
        line += f" {recall} {m['answer_precision']:>5.3f}"
        line += f" {m['top1_acc']:>5.3f} {threshold} | {d['combined']:>5.3f}"
        line += f" {d['answer_precision']:>5.3f} | {row.build_seconds:>7.2f} {row.p50:>5.2f}"
        print(f"{line} {row.p99:>5.2f} {row.pipe_p50:>8.2f} | {setup.baseline}", flush=True)
    print("\ncombined/in_acc/oos_rec/prec/top1 at T chosen by eval.py --calib on the same")
    print(f"validation queries; {default}: at the built-in default threshold.")
    print("p50/p99: in-process ms per best_match; pipe p50: eval.py stream mode, incl. IPC.\n")
    large: tuple[float, float] | None = None
    if not options.embeddings and not options.only:
        large = ten_thousand_rows_timing(pack)
    print_targets(rows, large, embeddings=options.embeddings)


def ten_thousand_rows_timing(pack: Path) -> tuple[float, float]:
    """Lexical timing at 10,000 rows; the worst p99 of both layouts (and its p50)."""
    texts = [q["text"] for q in queries_of(pack, Setup("", "", (*CLINC_VAL, *BANK_OOS)))]
    worst = (0.0, 0.0)
    for label, entries in ten_thousand_rows(pack):
        matcher, seconds = build(entries)
        p50, p99, slowest = time_queries(matcher, texts)
        print(f"10,000 rows, {label}: build {seconds:.2f} s, {index_mb(entries):.0f} MB;", end=" ")
        print(f"{len(texts)} queries p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {slowest:.2f} ms")
        worst = max(worst, (p99, p50))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, help="FAQ benchmark pack folder")
    parser.add_argument("--calibration", action="store_true", help="refit the calibration only")
    parser.add_argument("--embeddings", action="store_true", help="blend in the local model")
    parser.add_argument("--only", default="", metavar="NAME", help="setups whose name has NAME")
    args = parser.parse_args(argv)
    options = Options(embeddings=args.embeddings, only=args.only)
    pack = args.pack or Path(os.environ.get("HELPLINE_FAQ_PACK", DEFAULT_PACK))
    if not (pack / "eval.py").is_file():
        print(f"FAQ pack not found at {pack} (no eval.py there).", file=sys.stderr)
        print("Give --pack DIR or set HELPLINE_FAQ_PACK.", file=sys.stderr)
        raise SystemExit(2)
    if args.calibration:
        faq_calibration.report(pack, load_eval(pack), embeddings=options.embeddings)
    else:
        report(pack, options)


if __name__ == "__main__":
    main()
