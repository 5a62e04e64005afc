"""Which provider runs: chosen by the keys present, checked at start, with a fallback."""

from __future__ import annotations

import logging

import pytest

from bot.errors import LLMUnavailable
from bot.llm import FallbackProvider, PromptBuilder, build_provider, open_provider
from bot.llm.settings import LLMSettings
from tests.bot.llm.conftest import anthropic_settings, openai_settings
from tests.bot.llm.examples import from_customer
from tests.conftest import SettingsFactory
from tests.fakes import anthropic_api
from tests.fakes.anthropic_api import Answer, Failure, FakeAnthropicAPI
from tests.fakes.openai_api import FakeOpenAIAPI


def both(
    anthropic: FakeAnthropicAPI, openai: FakeOpenAIAPI, **overrides: object
) -> dict[str, object]:
    """Anthropic first, OpenAI configured too (as a fallback would be)."""
    openai_only = {k: v for k, v in openai_settings(openai).items() if k != "llm_provider"}
    return {**anthropic_settings(anthropic), **openai_only, **overrides}


REQUEST = PromptBuilder(company_name="Acme", history_tokens=100, tools=()).build(
    question=from_customer(1, "Do you sell helmets?"), language="en"
)


def test_without_any_key_ai_replies_are_off_with_a_warning(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    assert build_provider(make_settings().llm) is None
    assert "No ANTHROPIC_API_KEY or OPENAI_API_KEY is set" in caplog.text
    assert "FAQ and templates only" in caplog.text


def test_a_chosen_provider_without_its_key_is_a_warning_not_a_crash(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    assert build_provider(make_settings(llm_provider="anthropic").llm) is None
    assert "ANTHROPIC_API_KEY is not set" in caplog.text
    assert any(record.levelno == logging.WARNING for record in caplog.records)


def test_none_switches_ai_off_quietly(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(llm_provider="none", anthropic_api_key="sk-ant-real")
    assert build_provider(settings.llm) is None
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"anthropic_api_key": "sk-a"}, ("anthropic", "claude-sonnet-4-6")),
        ({"openai_api_key": "sk-o"}, ("openai", "gpt-4.1-mini")),
        ({"openai_base_url": "http://127.0.0.1:11434/v1"}, ("openai", "gpt-4.1-mini")),
        (
            {"anthropic_api_key": "sk-a", "openai_api_key": "sk-o"},
            ("anthropic", "claude-sonnet-4-6"),
        ),
    ],
)
async def test_the_provider_whose_key_is_present_is_chosen(
    make_settings: SettingsFactory, keys: dict[str, str], expected: tuple[str, str]
) -> None:
    provider = build_provider(make_settings(**keys).llm)
    assert provider is not None
    assert (provider.name, provider.model) == expected
    await provider.close()


async def test_the_sdk_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
    make_settings: SettingsFactory,
    anthropic_fake: FakeAnthropicAPI,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", anthropic_api.API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_fake.base_url)
    monkeypatch.setenv("HELPLINE_LLM_MODEL", "claude-haiku-4-5")
    provider = await open_provider(make_settings().llm)
    assert provider is not None
    reply = await provider.reply(REQUEST)
    await provider.close()
    assert reply.model == "claude-haiku-4-5"
    assert anthropic_fake.calls[0].question == "Do you sell helmets?"


async def test_a_rejected_key_at_start_means_template_mode(
    make_settings: SettingsFactory,
    anthropic_fake: FakeAnthropicAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        **{**anthropic_settings(anthropic_fake), "anthropic_api_key": "sk-ant-wrong-4242"}
    )
    assert await open_provider(settings.llm) is None
    assert "ANTHROPIC_API_KEY was rejected" in caplog.text
    assert "FAQ and templates only" in caplog.text
    assert "sk-ant-wrong-4242" not in caplog.text


async def test_a_rejected_primary_key_leaves_the_fallback(
    make_settings: SettingsFactory, anthropic_fake: FakeAnthropicAPI, openai_fake: FakeOpenAIAPI
) -> None:
    settings = make_settings(
        **both(
            anthropic_fake,
            openai_fake,
            anthropic_api_key="sk-ant-wrong",
            llm_fallback_provider="openai",
        )
    )
    provider = await open_provider(settings.llm)
    assert provider is not None and not isinstance(provider, FallbackProvider)
    assert provider.name == "openai"
    await provider.close()


async def test_an_unknown_model_is_a_warning_at_start(
    make_settings: SettingsFactory,
    anthropic_fake: FakeAnthropicAPI,
    openai_fake: FakeOpenAIAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for connection in (anthropic_settings(anthropic_fake), openai_settings(openai_fake)):
        provider = await open_provider(make_settings(**connection, llm_model="no-such-model").llm)
        assert provider is not None
        await provider.close()
    assert "anthropic does not know the model no-such-model" in caplog.text
    assert "openai does not list the model no-such-model" in caplog.text


async def test_an_unreachable_provider_is_kept_and_tried_per_request(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        anthropic_api_key="sk-a", anthropic_base_url="http://127.0.0.1:9", llm_timeout=2
    )
    provider = await open_provider(settings.llm)
    assert provider is not None
    await provider.close()
    assert "could not be checked at start" in caplog.text


@pytest.fixture
async def with_fallback(
    make_settings: SettingsFactory, anthropic_fake: FakeAnthropicAPI, openai_fake: FakeOpenAIAPI
) -> LLMSettings:
    return make_settings(
        **both(
            anthropic_fake,
            openai_fake,
            llm_fallback_provider="openai",
            llm_fallback_model="gpt-5-mini",
        )
    ).llm


async def test_the_fallback_takes_over_when_the_first_provider_fails(
    with_fallback: LLMSettings,
    anthropic_fake: FakeAnthropicAPI,
    openai_fake: FakeOpenAIAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    anthropic_fake.script.rule(lambda call: Failure(529))
    openai_fake.script.then(Answer("Yes, helmets from 39 €."), Answer("Oui."))
    provider = build_provider(with_fallback)
    assert isinstance(provider, FallbackProvider)

    reply = await provider.reply(REQUEST)
    translation = await provider.translate("Yes.", "fr")
    await provider.close()

    assert reply.text == "Yes, helmets from 39 €."
    assert (reply.provider, reply.model) == ("openai", "gpt-5-mini")
    assert translation.text == "Oui." and translation.provider == "openai"
    assert anthropic_fake.statuses == [529, 529]  # one retry, then skipped while cooling down
    assert "anthropic failed" in caplog.text and "openai takes over" in caplog.text


async def test_the_first_provider_is_tried_again_after_the_cool_down(
    with_fallback: LLMSettings, anthropic_fake: FakeAnthropicAPI, openai_fake: FakeOpenAIAPI
) -> None:
    anthropic_fake.script.then(Failure(500), Failure(500))
    built = build_provider(with_fallback)
    assert isinstance(built, FallbackProvider)
    now = [0.0]
    provider = FallbackProvider(built.primary, built.fallback, cooldown=60, clock=lambda: now[0])

    assert (await provider.reply(REQUEST)).provider == "openai"
    now[0] = 30.0
    assert (await provider.reply(REQUEST)).provider == "openai"
    assert len(anthropic_fake.calls) == 2
    now[0] = 61.0
    assert (await provider.reply(REQUEST)).provider == "anthropic"
    assert len(anthropic_fake.calls) == 3 and len(openai_fake.calls) == 2
    await provider.close()


async def test_when_both_fail_the_caller_gets_unavailable(
    with_fallback: LLMSettings, anthropic_fake: FakeAnthropicAPI, openai_fake: FakeOpenAIAPI
) -> None:
    anthropic_fake.script.rule(lambda call: Failure(500))
    openai_fake.script.rule(lambda call: Failure(503))
    provider = build_provider(with_fallback)
    assert provider is not None
    with pytest.raises(LLMUnavailable, match="openai: HTTP 503"):
        await provider.reply(REQUEST)
    await provider.close()
