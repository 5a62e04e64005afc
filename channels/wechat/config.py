"""What the WeChat adapter needs to know, built from the settings by `bot/app.py`."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.types import SUPPORTED_LANGUAGES

OFFICIAL_API_URL = "https://api.weixin.qq.com"


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    token: str = field(repr=False)
    """The Token set in the official account's server configuration (signs every push)."""
    app_id: str
    app_secret: str = field(repr=False)
    aes_key: str | None = field(default=None, repr=False)
    """EncodingAESKey: set for safe or compatible mode, None for plaintext mode."""
    api_url: str = OFFICIAL_API_URL
    reply_budget: float = 4.0
    """Seconds a push may wait for its answer; WeChat gives up at 5 and redelivers."""
    api_timeout: float = 10.0
    company_name: str = "Helpline"
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    default_language: str = "en"
    max_message_chars: int = 4096
