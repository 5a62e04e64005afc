"""Settings of the messenger channels: Telegram and WeChat (mixed into `bot.config.Settings`)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

ENV_PREFIX = "HELPLINE_"
CommaList = Annotated[tuple[str, ...], NoDecode]

_BOT_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{20,}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

WECHAT_OFFICIAL_API_URL = "https://api.weixin.qq.com"
_WECHAT_REQUIRED = ("wechat_token", "wechat_app_id", "wechat_app_secret")
_WECHAT_ANY = (*_WECHAT_REQUIRED, "wechat_aes_key")
_WECHAT_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
_WECHAT_APP_ID = re.compile(r"wx[0-9A-Za-z]{16}")
_WECHAT_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


def split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def http_url(value: str, example: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL such as {example}")
    return value.rstrip("/")


class TelegramFields(BaseModel):
    telegram_token: SecretStr | None = None
    telegram_mode: Literal["webhook", "polling"] = "webhook"
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_api_local: bool = False
    telegram_agent_chat_id: int | None = None
    telegram_admin_ids: CommaList = ()
    telegram_chat_messages_per_second: int = Field(default=1, ge=0, le=1000)
    telegram_messages_per_second: int = Field(default=30, ge=0, le=10_000)
    telegram_group_messages_per_minute: int = Field(default=20, ge=0, le=10_000)
    telegram_topics_per_minute: int = Field(default=20, ge=0, le=10_000)

    @field_validator("telegram_admin_ids")
    @classmethod
    def _user_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [item for item in value if not item.lstrip("-").isdigit()]
        if bad:
            raise ValueError("must be numeric Telegram user ids, separated by commas")
        return value

    @field_validator("telegram_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if not _BOT_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must look like 123456789:AA... (the token @BotFather gave you)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("use 1-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _telegram_api_url(cls, value: str) -> str:
        return http_url(value, "https://api.telegram.org")

    @model_validator(mode="after")
    def _telegram_complete(self) -> Self:
        problems = []
        if self.telegram_token is None:
            if self.telegram_agent_chat_id is not None:
                problems.append("HELPLINE_TELEGRAM_AGENT_CHAT_ID needs HELPLINE_TELEGRAM_TOKEN")
        elif self.telegram_mode == "webhook" and self.telegram_webhook_secret is None:
            problems.append(
                "HELPLINE_TELEGRAM_WEBHOOK_SECRET is required in webhook mode "
                "(or set HELPLINE_TELEGRAM_MODE=polling)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("telegram_admin_ids", mode="before")
    @classmethod
    def _admin_list(cls, value: object) -> object:
        return split_commas(value)


class WeChatFields(BaseModel):
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_url: str = WECHAT_OFFICIAL_API_URL
    wechat_reply_budget: float = Field(default=4.0, gt=0, le=4.5)

    @field_validator(*_WECHAT_ANY, mode="before")
    @classmethod
    def _blank_wechat_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("wechat_token")
    @classmethod
    def _wechat_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WECHAT_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 3 to 32 letters or digits, as in the account's settings")
        return value

    @field_validator("wechat_app_id")
    @classmethod
    def _wechat_app_id(cls, value: str | None) -> str | None:
        if value is not None and not _WECHAT_APP_ID.fullmatch(value.strip()):
            raise ValueError("must look like wx followed by 16 letters or digits")
        return value.strip() if value is not None else None

    @field_validator("wechat_aes_key")
    @classmethod
    def _wechat_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value().strip()
        try:
            valid = bool(_WECHAT_AES_KEY.fullmatch(key)) and len(base64.b64decode(key + "=")) == 32
        except binascii.Error:
            valid = False
        if not valid:
            raise ValueError("must be the 43-character EncodingAESKey from the account's settings")
        return SecretStr(key)

    @field_validator("wechat_api_url")
    @classmethod
    def _wechat_api_url(cls, value: str) -> str:
        return http_url(value, "https://api.weixin.qq.com")

    @model_validator(mode="after")
    def _wechat_complete(self) -> Self:
        """Half a WeChat setup fails at start, naming every key still missing."""
        if self.wechat_configured:
            missing = [name for name in _WECHAT_REQUIRED if getattr(self, name) is None]
            if missing:
                names = ", ".join(f"{ENV_PREFIX}{name.upper()}" for name in missing)
                raise ValueError(f"WeChat is partly configured; also set {names}")
        return self

    @property
    def wechat_configured(self) -> bool:
        """Any WeChat key set: the WeChat channel is wanted (and must then be complete)."""
        return any(getattr(self, name) is not None for name in _WECHAT_ANY)
