"""Settings: `HELPLINE_*` environment variables over an optional YAML file, checked at start.

The YAML file is `helpline.yaml` in the working directory, or the path in `HELPLINE_CONFIG`;
its keys are the variable names without the prefix, in lower case (`port: 8080`).
The LLM SDKs' own variables (`ANTHROPIC_API_KEY`, `OPENAI_BASE_URL`, …) are read as they are.
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
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.errors import ConfigError
from bot.llm.pricing import ModelPrice
from bot.llm.settings import (
    DEFAULT_HISTORY_TOKENS,
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MAX_TOOL_ROUNDS,
    DEFAULT_TIMEOUT,
    LLMSettings,
)
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

SDK_VARIABLES = ("anthropic_api_key", "anthropic_base_url", "openai_api_key", "openai_base_url")
"""Read under the SDKs' own names, without the HELPLINE_ prefix."""


def _sdk_variable(name: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name))


class LLMPrice(BaseModel):
    """US dollars per million tokens; cache reads and writes cost `input` unless set."""

    model_config = {"extra": "forbid", "frozen": True}

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)


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

    llm_provider: Literal["anthropic", "openai", "none"] | None = None
    llm_model: str | None = Field(default=None, max_length=200)
    llm_fallback_provider: Literal["anthropic", "openai"] | None = None
    llm_fallback_model: str | None = Field(default=None, max_length=200)
    llm_timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=600)
    llm_max_output_tokens: int = Field(default=DEFAULT_MAX_OUTPUT_TOKENS, ge=16, le=64_000)
    llm_max_tool_rounds: int = Field(default=DEFAULT_MAX_TOOL_ROUNDS, ge=1, le=10)
    llm_history_tokens: int = Field(default=DEFAULT_HISTORY_TOKENS, ge=0, le=200_000)
    llm_system_prompt: str | None = Field(default=None, max_length=20_000)
    llm_prices: dict[str, LLMPrice] = Field(default_factory=dict)
    anthropic_api_key: SecretStr | None = _sdk_variable("anthropic_api_key")
    anthropic_base_url: str | None = _sdk_variable("anthropic_base_url")
    openai_api_key: SecretStr | None = _sdk_variable("openai_api_key")
    openai_base_url: str | None = _sdk_variable("openai_base_url")

    @field_validator(
        "llm_provider",
        "llm_model",
        "llm_fallback_provider",
        "llm_fallback_model",
        "llm_system_prompt",
        *SDK_VARIABLES,
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("llm_provider", "llm_fallback_provider", mode="before")
    @classmethod
    def _provider_name(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("llm_fallback_model")
    @classmethod
    def _fallback_needs_provider(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("llm_fallback_provider") is None:
            raise ValueError("set HELPLINE_LLM_FALLBACK_PROVIDER too")
        return value

    @field_validator("anthropic_base_url", "openai_base_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be an http(s) URL such as http://127.0.0.1:11434/v1")
        return value

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
    def _telegram_api_url(cls, value: str) -> str:
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
    def llm(self) -> LLMSettings:
        """The AI settings as plain values for `bot.llm`; keys stay out of its repr."""
        return LLMSettings(
            provider=self.llm_provider,
            model=self.llm_model,
            fallback_provider=self.llm_fallback_provider,
            fallback_model=self.llm_fallback_model,
            timeout=self.llm_timeout,
            max_output_tokens=self.llm_max_output_tokens,
            max_tool_rounds=self.llm_max_tool_rounds,
            history_tokens=self.llm_history_tokens,
            system_prompt=self.llm_system_prompt,
            prices={
                model: ModelPrice(price.input, price.output, price.cache_read, price.cache_write)
                for model, price in self.llm_prices.items()
            },
            anthropic_api_key=_secret(self.anthropic_api_key),
            anthropic_base_url=self.anthropic_base_url,
            openai_api_key=_secret(self.openai_api_key),
            openai_base_url=self.openai_base_url,
        )

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
