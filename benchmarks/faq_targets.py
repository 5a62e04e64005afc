"""The issue's FAQ targets with our numbers next to the baselines, for `faq_report`.

Baselines are the ones measured on this machine when the targets were set (CLINC150 full
FAQ, harmonic mean of in-scope accuracy and out-of-scope recall; xSID cross-lingual top-1
of the lexical methods). A target whose setup was not run (`--only`) is left out.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

_COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


class Measured(Protocol):
    """One setup's results (`faq_report.Row`)."""

    @property
    def metrics(self) -> dict[str, float]: ...
    @property
    def p99(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    setups: tuple[str, ...]
    value: Callable[[list[Measured]], float]
    compare: str
    """How our value must compare with `bound`: ">=", "<=" or "<"."""
    bound: str
    """As printed; compared as a number."""
    unit: str = ""
    baselines: str = ""

    @property
    def goal(self) -> str:
        return f"{self.compare} {self.bound}"

    def met(self, value: float) -> bool:
        return bool(_COMPARE[self.compare](value, float(self.bound)))


def _metric(key: str) -> Callable[[list[Measured]], float]:
    return lambda rows: rows[0].metrics[key]


def _behind_english(rows: list[Measured]) -> float:
    """How far a language's combined is below English (positive = behind)."""
    return rows[0].metrics["combined"] - rows[1].metrics["combined"]


CLINC_BASELINES = "BM25 0.705, char n-gram TF-IDF 0.742, all-MiniLM-L6-v2 NN 0.859"
LANGUAGE_GAPS = (
    Target(
        "xSID de k5 behind en k5 (combined)",
        ("xSID en k5", "xSID de k5"),
        _behind_english,
        "<=",
        "0.05",
    ),
    Target(
        "xSID zh k5 behind en k5 (combined)",
        ("xSID en k5", "xSID zh k5"),
        _behind_english,
        "<=",
        "0.05",
    ),
)
PRECISION = (
    Target(
        "CLINC150 full: answer precision at T",
        ("CLINC150 full",),
        _metric("answer_precision"),
        ">=",
        "0.85",
    ),
    Target(
        "BANKING77-OOS full: answer precision at T",
        ("BANKING77-OOS full",),
        _metric("answer_precision"),
        ">=",
        "0.85",
    ),
)
LEXICAL = (
    Target(
        "CLINC150 full: combined",
        ("CLINC150 full",),
        _metric("combined"),
        ">=",
        "0.78",
        baselines=CLINC_BASELINES,
    ),
    Target(
        "BANKING77-OOS full: combined",
        ("BANKING77-OOS full",),
        _metric("combined"),
        ">=",
        "0.70",
    ),
    *PRECISION,
    *LANGUAGE_GAPS,
)
SEMANTIC = (
    Target(
        "CLINC150 full: combined",
        ("CLINC150 full",),
        _metric("combined"),
        ">=",
        "0.87",
        baselines="all-MiniLM-L6-v2 NN 0.859, multilingual-e5-small NN 0.838",
    ),
    Target(
        "CLINC150 full: p99 per query (15,000 rows)",
        ("CLINC150 full",),
        lambda rows: rows[0].p99,
        "<",
        "30",
        " ms",
    ),
    Target(
        "xSID en FAQ -> de customers: top-1",
        ("xSID en FAQ -> de",),
        _metric("top1_acc"),
        ">=",
        "0.50",
        baselines="lexical methods < 0.33 (0.25 here)",
    ),
    Target(
        "xSID en FAQ -> zh customers: top-1",
        ("xSID en FAQ -> zh",),
        _metric("top1_acc"),
        ">=",
        "0.50",
        baselines="lexical methods < 0.33",
    ),
    *PRECISION,
    *LANGUAGE_GAPS,
)


def print_targets(
    rows: Mapping[str, Measured], large: tuple[float, float] | None, *, embeddings: bool
) -> None:
    """One line per target: ours, the target, met or not, the baselines."""
    mode = "with the embeddings extra" if embeddings else "default (offline, lexical)"
    print(f"\nissue targets, {mode}; validation splits:")
    print(f"  {'':<44} {'ours':>9}  {'target':<9} {'':<4} baselines")
    for target in SEMANTIC if embeddings else LEXICAL:
        if not all(name in rows for name in target.setups):
            continue
        value = target.value([rows[name] for name in target.setups])
        ours = f"{value:.3f}{target.unit}"
        _line(target.label, ours, target.goal, target.met(value), target.baselines)
    if large is not None:
        p99, p50 = large
        label = f"p99 per query at 10,000 rows (p50 {p50:.2f} ms)"
        _line(label, f"{p99:.2f} ms", "< 2 ms", p99 < 2.0, "")


def _line(label: str, ours: str, goal: str, met: bool, baselines: str) -> None:
    print(f"  {label:<44} {ours:>9}  {goal:<9} {'met' if met else 'MISS':<4} {baselines}")
