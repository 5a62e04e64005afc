"""Shared fixtures: isolated settings, a real server on 127.0.0.1, its runtime."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer

from bot.config import Settings, load_settings
from tests.postgres import create_database, private_cluster, server_binaries

if TYPE_CHECKING:
    from bot.app import Runtime


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No HELPLINE_* variable, .env or helpline.yaml of the developer leaks into a test."""
    for name in list(os.environ):
        if name.startswith("HELPLINE_"):
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
