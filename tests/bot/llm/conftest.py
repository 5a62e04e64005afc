"""Fixtures for the provider tests: the fake APIs running, providers pointed at them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.config import Settings
from bot.llm import LLMProvider, build_provider
from tests.conftest import SettingsFactory
from tests.fakes import anthropic_api, openai_api
from tests.fakes.anthropic_api import FakeAnthropicAPI, FakeLLMServer
from tests.fakes.openai_api import FakeOpenAIAPI

SDK_PREFIXES = ("ANTHROPIC_", "OPENAI_")


@pytest.fixture(autouse=True)
def no_sdk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own API keys or base URLs never reach a test."""
    for name in list(os.environ):
        if name.startswith(SDK_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[FakeAnthropicAPI]:
    async with FakeAnthropicAPI.running() as fake:
        yield fake


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAIAPI]:
    async with FakeOpenAIAPI.running() as fake:
        yield fake


def anthropic_settings(fake: FakeLLMServer) -> dict[str, Any]:
    return {
        "llm_provider": "anthropic",
        "anthropic_api_key": anthropic_api.API_KEY,
        "anthropic_base_url": fake.base_url,
    }


def openai_settings(fake: FakeLLMServer) -> dict[str, Any]:
    return {
        "llm_provider": "openai",
        "openai_api_key": openai_api.API_KEY,
        "openai_base_url": fake.base_url,
    }


@dataclass
class Backend:
    """One provider and the fake it talks to."""

    name: str
    fake: FakeLLMServer
    model: str
    make_settings: SettingsFactory
    connection: Callable[[FakeLLMServer], dict[str, Any]]
    opened: list[LLMProvider] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Settings:
        return self.make_settings(**{**self.connection(self.fake), **overrides})

    def provider(self, **overrides: Any) -> LLMProvider:
        provider = build_provider(self.settings(**overrides).llm)
        assert provider is not None
        self.opened.append(provider)
        return provider


@pytest.fixture(params=["anthropic", "openai"])
async def backend(
    request: pytest.FixtureRequest,
    make_settings: SettingsFactory,
    anthropic_fake: FakeAnthropicAPI,
    openai_fake: FakeOpenAIAPI,
) -> AsyncIterator[Backend]:
    """Each behaviour test runs against both APIs with the real SDK clients."""
    if request.param == "anthropic":
        chosen = Backend(
            "anthropic", anthropic_fake, "claude-sonnet-4-6", make_settings, anthropic_settings
        )
    else:
        chosen = Backend("openai", openai_fake, "gpt-4.1-mini", make_settings, openai_settings)
    yield chosen
    for provider in chosen.opened:
        await provider.close()
