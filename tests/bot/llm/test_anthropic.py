"""What only the Anthropic provider does: prompt caching and the Messages API's shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.llm import LLMProvider, PromptBuilder, build_provider
from tests.bot.llm.conftest import anthropic_settings
from tests.bot.llm.examples import faq, from_customer
from tests.conftest import SettingsFactory
from tests.fakes import anthropic_api
from tests.fakes.anthropic_api import Answer, FakeAnthropicAPI, ToolUse

BUILDER = PromptBuilder(company_name="Acme Bikes", history_tokens=1000)


@pytest.fixture
async def provider(
    anthropic_fake: FakeAnthropicAPI, make_settings: SettingsFactory
) -> AsyncIterator[LLMProvider]:
    built = build_provider(make_settings(**anthropic_settings(anthropic_fake)).llm)
    assert built is not None
    yield built
    await built.close()


async def test_the_stable_prefix_is_marked_for_caching(
    anthropic_fake: FakeAnthropicAPI, provider: LLMProvider
) -> None:
    request = BUILDER.build(
        question=from_customer(1, "How do I pump the tyres?"),
        language="en",
        faq=[faq("Tyre pressure?", "Pump to the pressure printed on the tyre wall.")],
    )
    await provider.reply(request, search_knowledge=_no_search)

    body = anthropic_fake.calls[0].body
    stable, context = body["system"]
    assert stable == {
        "type": "text",
        "text": BUILDER.system,
        "cache_control": {"type": "ephemeral"},
    }
    assert "cache_control" not in context and "printed on the tyre wall" in context["text"]
    assert [tool["name"] for tool in body["tools"]] == [
        "search_knowledge",
        "handoff_to_human",
        "mark_answer_as_safe",
    ]
    assert all("input_schema" in tool for tool in body["tools"])
    assert body["tool_choice"] == {"type": "auto"}
    assert body["messages"] == [{"role": "user", "content": "How do I pump the tyres?"}]


async def test_the_second_question_reads_the_prefix_from_the_cache(provider: LLMProvider) -> None:
    first = await provider.reply(
        BUILDER.build(question=from_customer(1, "Opening hours?"), language="en"),
        search_knowledge=_no_search,
    )
    second = await provider.reply(
        BUILDER.build(question=from_customer(2, "Do you ship to Spain?"), language="es"),
        search_knowledge=_no_search,
    )
    assert first.usage.cache_write_tokens > 0 and first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.usage.cache_write_tokens == 0
    assert first.cost_usd is not None and second.cost_usd is not None
    assert second.cost_usd < first.cost_usd


async def test_tool_results_go_back_as_tool_result_blocks(
    anthropic_fake: FakeAnthropicAPI, provider: LLMProvider
) -> None:
    anthropic_fake.script.then(
        Answer("Let me check.", tool_calls=(ToolUse("search_knowledge", {"query": "hours"}),)),
        Answer("We open at 9."),
    )

    async def search(query: str) -> str:
        return "Opening hours: 9-18"

    reply = await provider.reply(
        BUILDER.build(question=from_customer(1, "When do you open?"), language="en"),
        search_knowledge=search,
    )

    messages = anthropic_fake.calls[1].body["messages"]
    assistant, results = messages[1], messages[2]
    assert assistant["role"] == "assistant"
    assert [block["type"] for block in assistant["content"]] == ["text", "tool_use"]
    tool_use_id = assistant["content"][1]["id"]
    assert results == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": tool_use_id,
                "content": "Opening hours: 9-18",
                "is_error": False,
            }
        ],
    }
    assert reply.text == "We open at 9."  # the last text, not the "Let me check." before it


async def test_the_sdk_authenticates_with_a_bearer_token(
    anthropic_fake: FakeAnthropicAPI, provider: LLMProvider
) -> None:
    await provider.reply(
        BUILDER.build(question=from_customer(1, "hi"), language="en"), search_knowledge=_no_search
    )
    headers = anthropic_fake.calls[0].headers
    assert headers["Authorization"] == f"Bearer {anthropic_api.API_KEY}"
    assert "anthropic-version" in headers


async def test_the_fake_also_accepts_x_api_key(anthropic_fake: FakeAnthropicAPI) -> None:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "ping"}],
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{anthropic_fake.base_url}/v1/messages",
            json=body,
            headers={"x-api-key": anthropic_api.API_KEY, "anthropic-version": "2023-06-01"},
        ) as ok:
            assert ok.status == 200
            message = await ok.json()
        async with session.post(
            f"{anthropic_fake.base_url}/v1/messages", json=body, headers={"x-api-key": "wrong"}
        ) as refused:
            assert refused.status == 401
            error = await refused.json()
    assert message["type"] == "message" and message["content"][0]["text"] == "You asked: ping"
    assert set(message["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    }
    assert error["error"]["type"] == "authentication_error"


async def test_the_fake_refuses_an_unanswered_tool_use(anthropic_fake: FakeAnthropicAPI) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "search_knowledge", "input": {}}
            ],
        },
        {"role": "user", "content": "hello?"},
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{anthropic_fake.base_url}/v1/messages",
            json={"model": "claude-haiku-4-5", "max_tokens": 32, "messages": messages},
            headers={"Authorization": f"Bearer {anthropic_api.API_KEY}"},
        ) as response,
    ):
        assert response.status == 400
        assert "tool_result" in (await response.json())["error"]["message"]


async def _no_search(query: str) -> str:
    return "nothing"
