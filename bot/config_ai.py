"""Settings of the AI: the model and its provider, and the policy on what it may do
(mixed into `bot.config.Settings`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from bot.ai import AIMode, AIPolicy, AutoSend
from bot.config_channels import CommaList, http_url, split_commas
from bot.hours import Schedule, ScheduleError
from bot.llm.pricing import ModelPrice
from bot.llm.settings import (
    DEFAULT_HISTORY_TOKENS,
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MAX_TOOL_ROUNDS,
    DEFAULT_TIMEOUT,
    LLMSettings,
)
from bot.types import SUPPORTED_LANGUAGES

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


class LLMFields(BaseModel):
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
        return None if value is None else http_url(value, "http://127.0.0.1:11434/v1")

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


class AIPolicyFields(BaseModel):
    ai_auto_send: Literal["all", "safe", "never"] = "all"
    ai_safe_categories: CommaList = ("password_reset", "app_login")
    ai_mode: Literal["always", "after_hours"] = "always"
    agent_language: str = "en"
    business_hours: str | None = None
    timezone: str = "UTC"
    holidays: CommaList = ()

    @field_validator("ai_safe_categories", "holidays", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return split_commas(value)

    @field_validator("ai_safe_categories")
    @classmethod
    def _labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(item.lower().replace(" ", "_").replace("-", "_") for item in value)

    @field_validator("agent_language")
    @classmethod
    def _agent_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"choose one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            Schedule.parse(value, zone="UTC")
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            Schedule.parse("mon 00:00-24:00", zone=value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            Schedule.parse("mon 00:00-24:00", zone="UTC", holidays=value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def schedule(self) -> Schedule | None:
        if self.business_hours is None:
            return None
        return Schedule.parse(self.business_hours, zone=self.timezone, holidays=self.holidays)

    @property
    def ai_policy(self) -> AIPolicy:
        return AIPolicy(
            auto_send=AutoSend(self.ai_auto_send),
            safe_categories=frozenset(self.ai_safe_categories),
            mode=AIMode(self.ai_mode),
            agent_language=self.agent_language,
        )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
