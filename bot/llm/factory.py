"""Choose and start the configured provider; without a usable key, AI replies are off.

`None` stands for the `none` provider: the pipeline then answers from the FAQ and its
templates only. A missing or rejected key is a warning at start, never a crash. The SDKs
are imported only when their provider is used.
"""

from __future__ import annotations

import logging

from bot.errors import LLMKeyRejected
from bot.llm.fallback import FallbackProvider
from bot.llm.pricing import PriceBook
from bot.llm.settings import (
    DEFAULT_MODELS,
    LLMSettings,
    ProviderConfig,
    ProviderName,
    is_openai_itself,
)
from bot.llm.types import LLMProvider

log = logging.getLogger(__name__)

PLACEHOLDER_KEY = "unused"
"""Sent to a self-hosted OpenAI-compatible server when no key is set: the SDK needs one."""

_KEY_VARIABLES: dict[ProviderName, str] = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
}


def provider_configs(settings: LLMSettings) -> list[ProviderConfig]:
    """The usable providers in order of preference (first, then fallback); may be empty."""
    chosen = _choose(settings)
    if chosen is None:
        return []
    configs = []
    primary = _config(chosen, settings.model, settings)
    if primary is not None:
        configs.append(primary)
    if settings.fallback_provider is not None:
        fallback = _config(settings.fallback_provider, settings.fallback_model, settings)
        same = (
            primary is not None
            and fallback is not None
            and ((fallback.name, fallback.model) == (primary.name, primary.model))
        )
        if fallback is not None and not same:
            configs.append(fallback)
    if not configs:
        log.warning("AI replies are off: answering from the FAQ and templates only")
    return configs


def build_provider(settings: LLMSettings) -> LLMProvider | None:
    """The provider (with its fallback) for these settings, or None; no network traffic."""
    prices = PriceBook(settings.prices)
    providers = [instantiate(config, prices) for config in provider_configs(settings)]
    return combine(providers)


async def open_provider(settings: LLMSettings) -> LLMProvider | None:
    """Like `build_provider`, then checks each key once; a rejected one is left out."""
    prices = PriceBook(settings.prices)
    configs = provider_configs(settings)
    usable: list[LLMProvider] = []
    for config in configs:
        provider = instantiate(config, prices)
        try:
            await provider.verify()
        except LLMKeyRejected as exc:
            variable = _KEY_VARIABLES[config.name]
            log.warning("%s was rejected (%s): not using %s", variable, exc, config.name)
            await provider.close()
            continue
        usable.append(provider)
    combined = combine(usable)
    if combined is not None:
        log.info("AI replies by %s", describe(combined))
    elif configs:
        log.warning("AI replies are off: answering from the FAQ and templates only")
    return combined


def instantiate(config: ProviderConfig, prices: PriceBook) -> LLMProvider:
    if config.name == "anthropic":
        from bot.llm.anthropic_provider import AnthropicProvider

        return AnthropicProvider(config, prices)
    from bot.llm.openai_provider import OpenAIProvider

    return OpenAIProvider(config, prices)


def combine(providers: list[LLMProvider]) -> LLMProvider | None:
    if not providers:
        return None
    if len(providers) == 1:
        return providers[0]
    return FallbackProvider(providers[0], providers[1])


def describe(provider: LLMProvider) -> str:
    if isinstance(provider, FallbackProvider):
        return f"{describe(provider.primary)}, falling back to {describe(provider.fallback)}"
    return f"{provider.name} ({provider.model})"


def _choose(settings: LLMSettings) -> ProviderName | None:
    if settings.provider == "none":
        log.info("AI replies are off (HELPLINE_LLM_PROVIDER=none)")
        return None
    if settings.provider is not None:
        return settings.provider
    if settings.anthropic_api_key:
        return "anthropic"
    if settings.openai_api_key or settings.openai_base_url:
        return "openai"
    log.warning(
        "No ANTHROPIC_API_KEY or OPENAI_API_KEY is set: AI replies are off, answering from "
        "the FAQ and templates only (set HELPLINE_LLM_PROVIDER=none to silence this)"
    )
    return None


def _config(name: ProviderName, model: str | None, settings: LLMSettings) -> ProviderConfig | None:
    if name == "anthropic":
        key, base_url = settings.anthropic_api_key, settings.anthropic_base_url
    else:
        key, base_url = settings.openai_api_key, settings.openai_base_url
    if not key and name == "openai" and base_url and not is_openai_itself(base_url):
        log.info("OPENAI_API_KEY is not set: sending a placeholder key to %s", base_url)
        key = PLACEHOLDER_KEY
    if not key:
        log.warning("%s is not set: %s cannot be used", _KEY_VARIABLES[name], name)
        return None
    return ProviderConfig(
        name=name,
        model=model or DEFAULT_MODELS[name],
        api_key=key,
        base_url=base_url,
        timeout=settings.timeout,
        max_output_tokens=settings.max_output_tokens,
        max_tool_rounds=settings.max_tool_rounds,
    )
