"""Settings come from HELPLINE_* variables over helpline.yaml, and fail loudly but safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database_url.get_secret_value() == "sqlite://data/helpline.sqlite3"
    assert settings.languages == ("en", "de", "ru", "zh", "fr", "es")


def test_environment_overrides_the_yaml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "custom.yaml"
    config.write_text("port: 9000\nhost: 0.0.0.0\ncompany_name: Acme\n", encoding="utf-8")
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    monkeypatch.setenv("HELPLINE_PORT", "9100")
    settings = load_settings()
    assert (settings.host, settings.port, settings.company_name) == ("0.0.0.0", 9100, "Acme")


def test_helpline_yaml_in_the_working_directory_is_read() -> None:
    Path("helpline.yaml").write_text("languages: [en, de]\n", encoding="utf-8")
    assert load_settings().languages == ("en", "de")


def test_comma_separated_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_LANGUAGES", "en, zh")
    monkeypatch.setenv("HELPLINE_WIDGET_ALLOWED_ORIGINS", "https://shop.example,https://b.example")
    settings = load_settings()
    assert settings.languages == ("en", "zh")
    assert settings.widget_allowed_origins == ("https://shop.example", "https://b.example")


def test_every_problem_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_PORT", "eighty")
    monkeypatch.setenv("HELPLINE_DEFAULT_LANGUAGE", "pt")
    monkeypatch.setenv("HELPLINE_DATABASE_URL", "mysql://root:hunter2@db/helpline")
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert len(error.value.problems) == 3
    for name in ("HELPLINE_PORT", "HELPLINE_DEFAULT_LANGUAGE", "HELPLINE_DATABASE_URL"):
        assert name in message
    assert "hunter2" not in message


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_WIDGET_SECRET", "s3cret-value")
    monkeypatch.setenv("HELPLINE_DATABASE_URL", "postgres://bot:pa55word@db.internal:5432/support")
    settings = load_settings()
    shown = f"{settings!r} {settings}"
    assert "s3cret-value" not in shown and "pa55word" not in shown
    assert settings.safe_database_url == "postgres://bot:***@db.internal:5432/support"


def test_unknown_yaml_keys_and_broken_yaml_are_reported(tmp_path: Path) -> None:
    Path("helpline.yaml").write_text("prot: 8080\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="HELPLINE_PROT: unknown setting"):
        load_settings()
    Path("helpline.yaml").write_text("port: [8080\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_settings()


def test_the_cli_reports_bad_config_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("HELPLINE_PORT", "-1")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "Invalid configuration" in err and "HELPLINE_PORT" in err
    assert "Traceback" not in err


def test_telegram_settings_are_checked_together() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(telegram_token="123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert "HELPLINE_TELEGRAM_WEBHOOK_SECRET is required in webhook mode" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_settings(telegram_token="not-a-token", telegram_admin_ids="12,abc")
    problems = raised.value.problems
    assert any(p.startswith("HELPLINE_TELEGRAM_TOKEN") for p in problems)
    assert any(p.startswith("HELPLINE_TELEGRAM_ADMIN_IDS") for p in problems)
    assert "not-a-token" not in str(raised.value)
    polling = load_settings(
        telegram_token="123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ", telegram_mode="polling"
    )
    assert polling.telegram_webhook_secret is None
    assert "ABCDEFGHIJ" not in repr(polling)
