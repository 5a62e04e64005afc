"""The explicit "I want a person" rule: plain words in six languages, no model needed."""

from __future__ import annotations

import re

# Words and phrases customers use to ask for a human, per language. Latin and Cyrillic
# patterns match whole words (with inflected endings where the language has them);
# Chinese has no word boundaries, so its phrases match anywhere.
_PATTERNS: dict[str, tuple[str, ...]] = {
    "en": (
        r"humans?",
        r"(?:live|real|support) (?:agent|person|human)s?",
        r"agents?",
        r"operators?",
        r"representatives?",
        r"(?:talk|speak|chat) (?:to|with) (?:a |an )?(?:person|someone|somebody|staff)",
        r"(?:want|need) a person",
    ),
    "de": (
        r"mitarbeiter(?:in|innen|s)?",
        r"menschen?",
        r"echte[nrm]? person",
        r"(?:kunden)?berater(?:in)?",
        r"sachbearbeiter(?:in)?",
        r"operator",
        r"mit jemandem sprechen",
    ),
    "ru": (
        r"оператор\w*",
        r"(?:живо\w+ )?человек\w*",
        r"сотрудник\w*",
        r"менеджер\w*",
        r"консультант\w*",
        r"специалист\w*",
    ),
    "zh": (r"人工", r"真人", r"客服人员", r"工作人员", r"转人工"),
    "fr": (
        r"conseill(?:er|ère)s?",
        r"humains?",
        r"opérat(?:eur|rice)s?",
        r"agents?",
        r"(?:une|vraie) personne",
        r"quelqu'un",
    ),
    "es": (
        r"agentes?",
        r"humanos?",
        r"persona(?: real)?",
        r"operador(?:a|es)?",
        r"asesor(?:a|es)?",
        r"hablar con alguien",
    ),
}

_WORDS = re.compile(
    r"(?<![\w])(?:"
    + "|".join(p for lang, ps in _PATTERNS.items() if lang != "zh" for p in ps)
    + r")(?![\w])"
)
"""Searched in lower-cased text: with `IGNORECASE` a search costs about twice as much."""
_CHINESE = re.compile("|".join(_PATTERNS["zh"]))
MAX_REQUEST_WORDS = 12


def asks_for_person(text: str) -> bool:
    """True when a short message asks for a human ("agent please", "оператор", "转人工").

    Long messages that merely mention a person ("my delivery person left the parcel
    outside...") are questions for the FAQ or the team, not requests for one.
    """
    if _CHINESE.search(text):
        return len(text) <= 40
    return len(text.split()) <= MAX_REQUEST_WORDS and _WORDS.search(text.lower()) is not None
