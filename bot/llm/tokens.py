"""A tokenizer-free token estimate, good enough for budgets.

Real tokenizers differ per model and would need data files; this counts characters by
script instead and errs on the high side, so a budget is kept rather than overrun:
about four Latin characters, two Cyrillic/Greek/Arabic characters or one CJK character
per token.
"""

from __future__ import annotations

MESSAGE_OVERHEAD_TOKENS = 4
"""Role markers and separators the APIs add around every message."""

_LATIN_LIMIT = 0x250  # Basic Latin .. Latin Extended-B
_CJK_START = 0x2E80  # CJK radicals, kana, Hangul, ideographs and beyond


def estimate_tokens(text: str) -> int:
    """Tokens `text` will take at most, roughly, in any current model's tokenizer."""
    if not text:
        return 0
    quarter_tokens = 0
    for char in text:
        code = ord(char)
        if code < _LATIN_LIMIT:
            quarter_tokens += 1
        elif code < _CJK_START:
            quarter_tokens += 2
        else:
            quarter_tokens += 4
    return (quarter_tokens + 3) // 4


def estimate_message_tokens(text: str) -> int:
    return estimate_tokens(text) + MESSAGE_OVERHEAD_TOKENS
