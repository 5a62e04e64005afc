"""The README stays true: every setting Helpline reads is documented there."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.config_ai import SDK_VARIABLES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    names = [
        name.upper() if name in SDK_VARIABLES else f"HELPLINE_{name.upper()}"
        for name in Settings.model_fields
    ]
    assert [name for name in names if f"`{name}`" not in text] == []
