"""Shared fixtures: isolated settings, a real server on 127.0.0.1, its runtime."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.config import Settings, load_settings
from tests.fakes.telegram_api import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import running as running_fake_telegram
from tests.postgres import create_database, private_cluster, server_binaries
from tests.telegram_updates import ADMIN_ID, AGENTS_CHAT, private_message

if TYPE_CHECKING:
    from bot.app import Runtime


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No HELPLINE_* or LLM SDK variable, .env or helpline.yaml of the developer leaks in."""
    for name in list(os.environ):
        if name.startswith(("HELPLINE_", "ANTHROPIC_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite://{tmp_path / 'helpline.sqlite3'}",
            "outbox_poll_seconds": 0.2,
            "shutdown_timeout": 5,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@dataclass
class LiveServer:
    url: str
    runtime: Runtime

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/widget/ws"


@pytest.fixture
async def live_server(make_settings: SettingsFactory) -> AsyncIterator[LiveServer]:
    """The whole app on a free port, started and stopped the way `helpline serve` does."""
    async with _serve(make_settings()) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
async def any_live_server(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[LiveServer]:
    """The live server on each supported database: the same behaviour is expected of both."""
    if request.param == "postgres":
        settings = make_settings(database_url=request.getfixturevalue("postgres_url"))
    else:
        settings = make_settings()
    async with _serve(settings) as server:
        yield server


@asynccontextmanager
async def _serve(settings: Settings) -> AsyncIterator[LiveServer]:
    from bot.app import RUNTIME, create_app

    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield LiveServer(str(server.make_url("")).rstrip("/"), app[RUNTIME])
    finally:
        await server.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Base URL of a private PostgreSQL cluster; skipped locally without the server package."""
    if server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are required in CI")
        pytest.skip("PostgreSQL server binaries not installed")
    with private_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database for one test."""
    return create_database(postgres_server, f"t_{uuid.uuid4().hex[:12]}")


WEBHOOK_SECRET = "test-webhook-secret_1"


@dataclass
class TelegramWorld:
    """The app with Telegram configured against a fake Bot API, and ways to poke it."""

    server: LiveServer
    fake: FakeTelegram
    session: aiohttp.ClientSession

    @property
    def runtime(self) -> Runtime:
        return self.server.runtime

    async def post(
        self, update: dict[str, Any], *, secret: str | None = WEBHOOK_SECRET
    ) -> aiohttp.ClientResponse:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self.session.post(
            f"{self.server.url}/telegram/webhook", json=update, headers=headers
        ) as response:
            await response.read()
            return response

    async def hand_off(self, chat: int, name: str = "Anna") -> int:
        """The customer asks for a person; returns the topic the handoff opened."""
        response = await self.post(
            private_message(chat, "I want to talk to a human", first_name=name)
        )
        assert response.status == 200
        await self.fake.wait_for(lambda f: f.sent(AGENTS_CHAT))
        created = self.fake.methods("createForumTopic")[-1]
        assert created.params["name"].startswith("#")
        thread = self.fake.sent(AGENTS_CHAT)[-1].thread_id
        assert thread is not None
        return thread


def telegram_overrides(api_url: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "telegram_token": TELEGRAM_TOKEN,
        "telegram_webhook_secret": WEBHOOK_SECRET,
        "telegram_api_url": api_url,
        "telegram_agent_chat_id": AGENTS_CHAT,
        "telegram_admin_ids": str(ADMIN_ID),
        "telegram_chat_messages_per_second": 0,
        "telegram_group_messages_per_minute": 0,
    }
    values.update(extra)
    return values


@pytest.fixture
async def telegram(make_settings: SettingsFactory) -> AsyncIterator[TelegramWorld]:
    """Helpline with a Telegram bot and an agents' chat, both served by a fake Bot API."""
    async with (
        running_fake_telegram() as (fake, api_url),
        aiohttp.ClientSession() as session,
        _serve(make_settings(**telegram_overrides(api_url))) as server,
    ):
        yield TelegramWorld(server, fake, session)
