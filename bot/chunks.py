"""Splitting long texts for channels with a length limit, at the most natural boundary.

A reply longer than a channel allows (Telegram: 4,096 characters; WeChat counts bytes) is
sent as several messages. Cutting at a paragraph, else a line, else a sentence, else a
word keeps each part readable; only a single unbroken run is cut mid-word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

Measure = Callable[[str], int]

_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int, *, measure: Measure = len) -> list[str]:
    """Parts of `text`, each at most `limit` long by `measure` (characters by default)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while rest and measure(rest) > limit:
        cut = _cut_point(rest, limit, measure)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int, measure: Measure) -> int:
    fits = _longest_prefix(text, limit, measure)
    window = text[:fits]
    for boundary in _BOUNDARIES:
        ends = [m.end() for m in boundary.finditer(window) if m.start() > fits // 3]
        if ends:
            return ends[-1]
    return fits


def _longest_prefix(text: str, limit: int, measure: Measure) -> int:
    """The most characters whose measure stays within `limit` (binary search, ≥ 1)."""
    low, high = 1, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def merge_texts(texts: Sequence[str], limit: int) -> list[str]:
    """Join texts with blank lines into as few parts of at most `limit` characters as fit."""
    return [text for text, _ in merge_parts([split_text(t, limit) for t in texts], limit)]


def merge_parts(parts_of: Sequence[Sequence[str]], limit: int) -> list[tuple[str, list[int]]]:
    """Join the parts of several texts (each part within `limit`) with blank lines into as
    few messages as fit, each with how many parts of every text it holds: a sender that
    stops halfway knows which parts are out."""
    merged: list[tuple[str, list[int]]] = []
    current, counts = "", [0] * len(parts_of)
    for number, parts in enumerate(parts_of):
        for part in parts:
            candidate = f"{current}\n\n{part}" if current else part
            if len(candidate) <= limit or not current:
                current = candidate
            else:
                merged.append((current, counts))
                current, counts = part, [0] * len(parts_of)
            counts[number] += 1
    if current:
        merged.append((current, counts))
    return merged
