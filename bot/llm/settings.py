"""The LLM part of the settings, as plain values: `bot.config.Settings.llm` builds it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from bot.llm.pricing import ModelPrice

ProviderName = Literal["anthropic", "openai"]
ProviderChoice = Literal["anthropic", "openai", "none"]

DEFAULT_MODELS: Mapping[ProviderName, str] = {
    "anthropic": "claude-sonnet-4-6",
    "openai": "gpt-4.1-mini",
}
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_OUTPUT_TOKENS = 1024
DEFAULT_HISTORY_TOKENS = 3000
DEFAULT_MAX_TOOL_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """`provider=None` picks the provider whose key is present (Anthropic first)."""

    provider: ProviderChoice | None = None
    model: str | None = None
    fallback_provider: ProviderName | None = None
    fallback_model: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS
    history_tokens: int = DEFAULT_HISTORY_TOKENS
    system_prompt: str | None = None
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """Everything one provider client needs."""

    name: ProviderName
    model: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS


def is_openai_itself(base_url: str | None) -> bool:
    """True for OpenAI's own API, False for a compatible server (vLLM, Ollama, llama.cpp)."""
    return base_url is None or urlsplit(base_url).hostname == "api.openai.com"
