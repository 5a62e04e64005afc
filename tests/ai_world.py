"""Helpline with a language model (a fake Anthropic or OpenAI API) and, when asked, the
Telegram agents' chat (a fake Bot API): what the AI tests drive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.conftest import LiveServer, SettingsFactory, _serve, telegram_overrides
from tests.fakes import anthropic_api, openai_api
from tests.fakes.anthropic_api import FakeAnthropicAPI, FakeLLMServer, ModelCall, Script
from tests.fakes.openai_api import FakeOpenAIAPI
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import running as running_telegram

LANGUAGES = {"English": "en", "German": "de", "Russian": "ru", "French": "fr", "Spanish": "es"}


def translating(call: ModelCall) -> bool:
    return call.system.startswith("You translate")


def target_language(call: ModelCall) -> str:
    """The language code a translation request asks for."""
    for name, code in LANGUAGES.items():
        if f"into {name}" in call.system:
            return code
    return "zh" if "Chinese" in call.system else "?"


@dataclass
class AIWorld:
    server: LiveServer
    llm: FakeLLMServer
    session: aiohttp.ClientSession
    telegram: FakeTelegram | None = None


def provider_settings(provider: str, fake: FakeLLMServer) -> dict[str, Any]:
    if provider == "anthropic":
        return {
            "llm_provider": "anthropic",
            "anthropic_api_key": anthropic_api.API_KEY,
            "anthropic_base_url": fake.base_url,
            "llm_timeout": 5,
        }
    return {
        "llm_provider": "openai",
        "openai_api_key": openai_api.API_KEY,
        "openai_base_url": fake.base_url,
        "llm_timeout": 5,
    }


@asynccontextmanager
async def ai_world(
    make_settings: SettingsFactory,
    provider: str,
    script: Script,
    *,
    desk: bool = False,
    **overrides: Any,
) -> AsyncIterator[AIWorld]:
    fake_class = FakeAnthropicAPI if provider == "anthropic" else FakeOpenAIAPI
    async with fake_class.running(script=script) as llm, aiohttp.ClientSession() as session:
        values = {**provider_settings(provider, llm), **overrides}
        if not desk:
            async with _serve(make_settings(**values)) as server:
                yield AIWorld(server, llm, session)
            return
        async with running_telegram() as (telegram, api_url):
            values.update(telegram_overrides(api_url))
            values.update(overrides)
            async with _serve(make_settings(**values)) as server:
                yield AIWorld(server, llm, session, telegram)
