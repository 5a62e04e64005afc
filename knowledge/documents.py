"""Read Markdown and plain-text documents (manuals, policies) into searchable passages.

A passage is a few paragraphs under one heading, about `TARGET_CHARS` long, never more
than `MAX_CHARS`: long enough to carry an answer, short enough to hand several to the LLM
as grounding. Each passage keeps the headings above it, which often name its subject
better than its own words ("Returns › Opened items"). No database here;
`storage.documents.DocumentStore` writes what this returns.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ImportFileError

MAX_FILE_BYTES = 5 * 1024 * 1024
TARGET_CHARS = 800
MAX_CHARS = 1500
HEADING_SEPARATOR = " › "
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    name: str
    """The file name; importing a file of the same name again replaces this document."""
    title: str
    passages: tuple[tuple[str, str], ...]
    """(heading path, text) in document order."""
    digest: str


def load_document(path: Path) -> ParsedDocument:
    """Parse one document file; the format follows its extension."""
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in MARKDOWN_SUFFIXES | TEXT_SUFFIXES:
        kind = f"{path.suffix!r} files" if path.suffix else "files without an extension"
        raise ImportFileError(where, f"cannot import {kind}; use Markdown (.md) or text (.txt)")
    text = _read_text(path)
    markdown = suffix in MARKDOWN_SUFFIXES
    title, blocks = _markdown_blocks(text) if markdown else _text_blocks(text)
    passages = tuple(_passages(blocks))
    if not passages:
        raise ImportFileError(where, "the document contains no text")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ParsedDocument(path.name, title or path.stem, passages, digest)


def _read_text(path: Path) -> str:
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // 2**20
            raise ImportFileError(
                where, f"the file is {size / 2**20:.1f} MB; the limit is {limit} MB"
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(where, "file not found") from exc
    except IsADirectoryError as exc:
        raise ImportFileError(where, "this is a folder, not a file") from exc
    except OSError as exc:
        raise ImportFileError(where, f"cannot read the file: {exc.strerror or exc}") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(where, "the file is UTF-16 encoded; save it as UTF-8")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            where, f"the file is not UTF-8 text (first bad byte on line {line})"
        ) from exc


Block = tuple[str, str]
"""(heading path, paragraph)."""


def _markdown_blocks(text: str) -> tuple[str, list[Block]]:
    """Paragraphs with their heading path; code blocks stay verbatim, front matter goes."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
        lines = lines[[line.strip() for line in lines].index("---", 1) + 1 :]
    title = ""
    headings: list[tuple[int, str]] = []
    blocks: list[Block] = []
    paragraph: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph:
            path = HEADING_SEPARATOR.join(name for _, name in headings)
            body = "\n".join(paragraph).strip()
            if body:
                blocks.append((path, body))
            paragraph.clear()

    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            paragraph.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level, name = len(heading.group(1)), _inline(heading.group(2))
            if level == 1 and not title:
                title = name
                continue
            headings = [(lvl, n) for lvl, n in headings if lvl < level] + [(level, name)]
            continue
        if not line.strip():
            flush()
            continue
        paragraph.append(_inline(_LIST_MARK.sub("• ", line.strip())))
    flush()
    return title, blocks


def _text_blocks(text: str) -> tuple[str, list[Block]]:
    """Paragraphs split on blank lines; a short first line is the title."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    title = ""
    if paragraphs and "\n" not in paragraphs[0] and len(paragraphs[0]) <= 100:
        title = paragraphs.pop(0)
    return title, [("", paragraph) for paragraph in paragraphs]


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return _EMPHASIS.sub("", text).strip()


def _passages(blocks: list[Block]) -> list[tuple[str, str]]:
    """Join paragraphs under one heading up to TARGET_CHARS; split the overlong ones."""
    passages: list[tuple[str, str]] = []
    heading = ""
    parts: list[str] = []
    for path, paragraph in blocks:
        for piece in _split_long(paragraph):
            size = sum(len(part) + 2 for part in parts)
            if parts and (path != heading or size + len(piece) > TARGET_CHARS):
                passages.append((heading, "\n\n".join(parts)))
                parts = []
            heading = path
            parts.append(piece)
    if parts:
        passages.append((heading, "\n\n".join(parts)))
    return passages


def _split_long(paragraph: str) -> list[str]:
    if len(paragraph) <= MAX_CHARS:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > MAX_CHARS:  # one endless sentence: cut at a space
            cut = sentence.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > 0 else MAX_CHARS
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + len(sentence) + 1 > TARGET_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces
