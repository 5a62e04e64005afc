"""The AI settings: HELPLINE_LLM_* plus the SDKs' own variables, checked and never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.llm import ModelPrice


def test_defaults() -> None:
    llm = load_settings().llm
    assert llm.provider is None and llm.model is None and llm.fallback_provider is None
    assert (llm.timeout, llm.max_output_tokens, llm.max_tool_rounds) == (30.0, 1024, 3)
    assert llm.history_tokens == 3000 and llm.system_prompt is None and llm.prices == {}


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_LLM_PROVIDER", "OpenAI")
    monkeypatch.setenv("HELPLINE_LLM_MODEL", "qwen2.5:14b")
    monkeypatch.setenv("HELPLINE_LLM_FALLBACK_PROVIDER", "anthropic")
    monkeypatch.setenv("HELPLINE_LLM_TIMEOUT", "12.5")
    monkeypatch.setenv("HELPLINE_LLM_HISTORY_TOKENS", "800")
    monkeypatch.setenv("HELPLINE_LLM_PRICES", '{"qwen2.5:14b": {"input": 0, "output": 0}}')
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    llm = load_settings().llm
    assert (llm.provider, llm.model, llm.fallback_provider) == (
        "openai",
        "qwen2.5:14b",
        "anthropic",
    )
    assert (llm.timeout, llm.history_tokens) == (12.5, 800)
    assert llm.prices == {"qwen2.5:14b": ModelPrice(0.0, 0.0)}
    assert llm.openai_base_url == "http://127.0.0.1:11434/v1"
    assert llm.anthropic_api_key == "sk-ant-from-env" and llm.openai_api_key is None


def test_yaml_with_prices_and_a_multi_line_prompt() -> None:
    Path("helpline.yaml").write_text(
        "llm_provider: anthropic\n"
        "llm_system_prompt: |\n"
        "  Speak like a cycling enthusiast.\n"
        "  Never promise same-day repairs.\n"
        "llm_prices:\n"
        "  claude-sonnet-4-6: {input: 2.5, output: 12, cache_read: 0.25, cache_write: 3}\n",
        encoding="utf-8",
    )
    llm = load_settings().llm
    assert llm.system_prompt == "Speak like a cycling enthusiast.\nNever promise same-day repairs."
    assert llm.prices["claude-sonnet-4-6"] == ModelPrice(2.5, 12.0, 0.25, 3.0)


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_LLM_PROVIDER", "")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "  ")
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    llm = load_settings().llm
    assert llm.provider is None and llm.anthropic_api_key is None and llm.openai_base_url is None


def test_every_problem_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_LLM_PROVIDER", "gemini")
    monkeypatch.setenv("HELPLINE_LLM_FALLBACK_MODEL", "gpt-5-mini")
    monkeypatch.setenv("HELPLINE_LLM_TIMEOUT", "0")
    monkeypatch.setenv("HELPLINE_LLM_PRICES", '{"m": {"input": -1, "output": 1}}')
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434")
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert len(error.value.problems) == 5
    for name in (
        "HELPLINE_LLM_PROVIDER",
        "HELPLINE_LLM_FALLBACK_MODEL: set HELPLINE_LLM_FALLBACK_PROVIDER too",
        "HELPLINE_LLM_TIMEOUT",
        "HELPLINE_LLM_PRICES.M.INPUT",
        "\n  - OPENAI_BASE_URL: ",
    ):
        assert name in message


def test_keys_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-s3cret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-s3cret")
    settings = load_settings()
    shown = f"{settings!r} {settings} {settings.llm!r} {settings.llm}"
    assert "s3cret" not in shown
    monkeypatch.setenv("HELPLINE_PORT", "none")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "s3cret" not in str(error.value)
