"""Settings: `HELPLINE_*` environment variables over an optional YAML file, checked at start.

The YAML file is `helpline.yaml` in the working directory, or the path in `HELPLINE_CONFIG`;
its keys are the variable names without the prefix, in lower case (`port: 8080`).
The LLM SDKs' own variables (`ANTHROPIC_API_KEY`, `OPENAI_BASE_URL`, …) are read as they are.
Every problem is reported at once, and secret values never appear in errors or logs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.config_ai import SDK_VARIABLES, AIPolicyFields, LLMFields, LLMPrice
from bot.config_channels import (
    ENV_PREFIX,
    CommaList,
    TelegramFields,
    WeChatFields,
    http_url,
    split_commas,
)
from bot.errors import ConfigError
from bot.types import SUPPORTED_LANGUAGES

__all__ = ["ENV_PREFIX", "LLMPrice", "Settings", "load_settings", "redact_url"]

DEFAULT_CONFIG_FILE = "helpline.yaml"


class Settings(TelegramFields, WeChatFields, LLMFields, AIPolicyFields, BaseSettings):
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
    max_message_chars: int = Field(default=4096, ge=1, le=100_000)
    """Telegram's own limit by default, so that no message a customer can send there is refused."""
    history_turns: int = Field(default=20, ge=1, le=500)

    faq_min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    sample_faq: bool = True

    widget_allowed_origins: CommaList = ()
    widget_secret: SecretStr | None = None
    widget_messages_per_minute: int = Field(default=30, ge=0, le=10_000)
    widget_max_file_mb: int = Field(default=10, ge=0, le=50)
    """Largest file a widget visitor may send; 0 turns uploads off."""

    shutdown_timeout: float = Field(default=10.0, gt=0, le=300)
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    notify_customer_on_assign: bool = True

    @field_validator("languages", "widget_allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return split_commas(value)

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

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "https://support.example.com")

    @field_validator("database_url")
    @classmethod
    def _tortoise_url(cls, value: SecretStr) -> SecretStr:
        scheme = value.get_secret_value().split("://", 1)[0]
        if scheme not in ("sqlite", "postgres", "postgresql", "asyncpg", "psycopg"):
            raise ValueError("must start with sqlite://, postgres:// or psycopg://")
        return value

    @model_validator(mode="after")
    def _drafts_need_a_desk(self) -> Settings:
        if self.ai_auto_send != "all" and self.telegram_agent_chat_id is None:
            raise ValueError(
                f"HELPLINE_AI_AUTO_SEND={self.ai_auto_send} keeps AI answers as drafts for "
                "staff: set HELPLINE_TELEGRAM_AGENT_CHAT_ID (the agents' chat) too"
            )
        if self.ai_mode == "after_hours" and self.business_hours is None:
            raise ValueError(
                "HELPLINE_AI_MODE=after_hours needs HELPLINE_BUSINESS_HOURS (staffed hours)"
            )
        return self

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


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


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
    prefix = "" if error["loc"] and error["loc"][0] in SDK_VARIABLES else ENV_PREFIX
    return f"{prefix}{field_name.upper()}: {message}"
