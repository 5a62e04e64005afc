"""Replies as WeChat text: buttons as numbered lines, long text split to WeChat's size.

WeChat documents no limit, but `message/custom/send` answers 45002 ("content size out of
limit") above 2048 bytes of UTF-8, as developers report on WeChat's own forum, and passive
replies fail in the same range; 2048 bytes is about 680 Chinese characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.types import OutboundReply, SenderKind

MAX_TEXT_BYTES = 2048
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ")


def compose(reply: OutboundReply, file_links: Sequence[str] = ()) -> str:
    """WeChat text cannot carry buttons, files or the sender's name: all go into the text."""
    text = reply.text.strip()
    if reply.sender_kind is SenderKind.AGENT and reply.author_name:
        text = f"{reply.author_name}: {text}"
    links = [a.reference for a in reply.attachments if a.reference.startswith("http")]
    links += file_links
    if links:
        text = "\n".join([text, *links])
    if reply.buttons:
        options = "\n".join(f"{n}. {b.label}" for n, b in enumerate(reply.buttons, start=1))
        text = f"{text}\n\n{options}"
    return text


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut at a paragraph, line, sentence or word
    end where one falls in the second half of a part, else at a character boundary."""
    if limit < 4:
        raise ValueError("a part must hold at least one character (4 bytes)")
    parts: list[str] = []
    rest = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    while len(rest.encode("utf-8")) > limit:
        head = _longest_prefix(rest, limit)
        cut = _break_at(head)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return [part for part in parts if part] or [""]


def _longest_prefix(text: str, limit: int) -> str:
    """The longest prefix that fits `limit` bytes (never splits a character)."""
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore")


def _break_at(head: str) -> int:
    for mark in _BREAKS:
        at = head.rfind(mark)
        if at >= len(head) // 2:
            return at + len(mark)
    return len(head)
