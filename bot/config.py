"""Settings: `HELPLINE_*` environment variables over an optional YAML file, checked at start.

The YAML file is `helpline.yaml` in the working directory, or the path in `HELPLINE_CONFIG`;
its keys are the variable names without the prefix, in lower case (`port: 8080`).
Every problem is reported at once, and secret values never appear in errors or logs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.errors import ConfigError
from bot.types import SUPPORTED_LANGUAGES

ENV_PREFIX = "HELPLINE_"
DEFAULT_CONFIG_FILE = "helpline.yaml"

CommaList = Annotated[tuple[str, ...], NoDecode]
_BOT_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{20,}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

WECHAT_OFFICIAL_API_URL = "https://api.weixin.qq.com"
_WECHAT_REQUIRED = ("wechat_token", "wechat_app_id", "wechat_app_secret")
_WECHAT_ANY = (*_WECHAT_REQUIRED, "wechat_aes_key")
_WECHAT_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
_WECHAT_APP_ID = re.compile(r"wx[0-9A-Za-z]{16}")
_WECHAT_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """Every setting Helpline reads. Only `bot/app.py` and the CLI see the whole object."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    database_url: SecretStr = SecretStr("sqlite://data/helpline.sqlite3")
    public_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    default_language: str = "en"
    languages: CommaList = SUPPORTED_LANGUAGES
    company_name: str = Field(default="Helpline", min_length=1, max_length=100)
    max_message_chars: int = Field(default=4000, ge=1, le=100_000)
    history_turns: int = Field(default=20, ge=1, le=500)

    faq_min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    sample_faq: bool = True

    widget_allowed_origins: CommaList = ()
    widget_secret: SecretStr | None = None
    widget_messages_per_minute: int = Field(default=30, ge=0, le=10_000)

    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_url: str = WECHAT_OFFICIAL_API_URL
    wechat_reply_budget: float = Field(default=4.0, gt=0, le=4.5)

    shutdown_timeout: float = Field(default=10.0, gt=0, le=300)
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=60)

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
    notify_customer_on_assign: bool = True

    @field_validator("languages", "widget_allowed_origins", "telegram_admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [code for code in value if code not in SUPPORTED_LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported {unknown}; choose from {', '.join(SUPPORTED_LANGUAGES)}")
        if not value:
            raise ValueError("at least one language is needed")
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_default(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"choose one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

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
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _telegram_complete(self) -> Settings:
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

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://support.example.com")
        return value.rstrip("/")

    @field_validator(*_WECHAT_ANY, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
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
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://api.weixin.qq.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _wechat_complete(self) -> Settings:
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

    @field_validator("database_url")
    @classmethod
    def _tortoise_url(cls, value: SecretStr) -> SecretStr:
        scheme = value.get_secret_value().split("://", 1)[0]
        if scheme not in ("sqlite", "postgres", "postgresql", "asyncpg", "psycopg"):
            raise ValueError("must start with sqlite://, postgres:// or psycopg://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    @property
    def safe_database_url(self) -> str:
        """The database URL with any password masked, for logs."""
        return redact_url(self.database_url.get_secret_value())

    def widget_origins(self, own_origins: tuple[str, ...]) -> frozenset[str]:
        """Origins that may open the widget socket: configured ones plus our own."""
        origins = set(self.widget_allowed_origins) | set(own_origins)
        if self.public_url:
            parts = urlsplit(self.public_url)
            origins.add(f"{parts.scheme}://{parts.netloc}")
        return frozenset(origin.rstrip("/") for origin in origins)


def _config_file() -> Path | None:
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        return Path(explicit)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def load_settings(**overrides: Any) -> Settings:
    """Build the settings or raise ConfigError listing every problem (values never shown)."""
    config_file = _config_file()
    if config_file is not None:
        _check_yaml_file(config_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None


def _check_yaml_file(path: Path) -> None:
    if not path.is_file():
        raise ConfigError([f"{ENV_PREFIX}CONFIG: no such file {path}"])
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError([f"{path}: not valid YAML{where}"]) from None
    if content is not None and not isinstance(content, dict):
        raise ConfigError([f"{path}: expected a mapping of setting names to values"])


def _describe(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message  # a rule across settings names them itself
    field_name = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown setting"
    return f"{ENV_PREFIX}{field_name.upper()}: {message}"
