"""Every sentence the bot writes to customers exists in all six languages."""

from __future__ import annotations

import string

from bot.texts import CATALOG, Text, render
from bot.types import SUPPORTED_LANGUAGES


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_each_text_has_every_language_with_the_same_placeholders() -> None:
    for key in Text:
        versions = CATALOG[key]
        assert set(versions) == set(SUPPORTED_LANGUAGES), key
        expected = _placeholders(versions["en"])
        for language, template in versions.items():
            assert template.strip(), (key, language)
            assert _placeholders(template) == expected, (key, language)


def test_unserved_language_falls_back_to_english() -> None:
    assert render(Text.EMPTY_MESSAGE, "pt") == CATALOG[Text.EMPTY_MESSAGE]["en"]
    assert render(Text.MESSAGE_TOO_LONG, "de", limit=10) == (
        "Ihre Nachricht ist zu lang. Bitte bleiben Sie unter 10 Zeichen."
    )
