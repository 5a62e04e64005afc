"""What only the OpenAI provider does: Chat Completions shapes, self-hosted servers."""

from __future__ import annotations

import json

import pytest

from bot.llm import PromptBuilder, build_provider
from bot.llm.factory import PLACEHOLDER_KEY
from bot.llm.settings import is_openai_itself
from tests.bot.llm.examples import from_customer
from tests.conftest import SettingsFactory
from tests.fakes.anthropic_api import Answer, ToolUse
from tests.fakes.openai_api import FakeOpenAIAPI

BUILDER = PromptBuilder(company_name="Acme Bikes", history_tokens=1000)


async def test_rules_and_context_share_one_leading_system_message(
    make_settings: SettingsFactory,
) -> None:
    async with FakeOpenAIAPI.running(api_key=PLACEHOLDER_KEY, models=("llama3.1:8b",)) as fake:
        fake.script.then(
            Answer(tool_calls=(ToolUse("search_knowledge", {"query": "hours"}),)),
            Answer("We open at 9."),
        )
        # A self-hosted server: only the base URL is set, no key.
        settings = make_settings(openai_base_url=fake.base_url, llm_model="llama3.1:8b")
        provider = build_provider(settings.llm)
        assert provider is not None and provider.name == "openai"

        async def search(query: str) -> str:
            return "Opening hours: 9-18"

        reply = await provider.reply(
            BUILDER.build(question=from_customer(1, "When do you open?"), language="fr"),
            search_knowledge=search,
        )
        await provider.close()

    first, second = (call.body for call in fake.calls)
    assert fake.calls[0].headers["Authorization"] == f"Bearer {PLACEHOLDER_KEY}"
    system = first["messages"][0]
    assert system["role"] == "system" and system["content"].startswith(BUILDER.system)
    assert system["content"].endswith("Reply in French.")
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["tools"][0]["type"] == "function"
    assert first["tools"][0]["function"]["name"] == "search_knowledge"
    # compatible servers know max_tokens; OpenAI's reasoning models want max_completion_tokens
    assert first["max_tokens"] == 1024 and "max_completion_tokens" not in first
    assistant, tool = second["messages"][2], second["messages"][3]
    call_id = assistant["tool_calls"][0]["id"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"query": "hours"}
    assert tool == {"role": "tool", "tool_call_id": call_id, "content": "Opening hours: 9-18"}
    assert reply.text == "We open at 9." and reply.model == "llama3.1:8b"


async def test_cached_prompt_tokens_are_counted_apart(
    make_settings: SettingsFactory, openai_fake: FakeOpenAIAPI
) -> None:
    from tests.bot.llm.conftest import openai_settings

    provider = build_provider(make_settings(**openai_settings(openai_fake)).llm)
    assert provider is not None
    request = PromptBuilder(company_name="Acme", history_tokens=100, tools=()).build(
        question=from_customer(1, "hi"), language="en"
    )
    first = await provider.reply(request)
    second = await provider.reply(request)
    await provider.close()
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens > 0
    assert second.usage.prompt_tokens == first.usage.prompt_tokens


@pytest.mark.parametrize(
    ("base_url", "official"),
    [
        (None, True),
        ("https://api.openai.com/v1", True),
        ("http://localhost:11434/v1", False),
        ("http://vllm.internal:8000/v1", False),
    ],
)
def test_openai_itself_is_told_from_compatible_servers(
    base_url: str | None, official: bool
) -> None:
    assert is_openai_itself(base_url) is official
