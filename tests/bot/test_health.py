"""GET /healthz tells a load balancer whether this process can take traffic."""

from __future__ import annotations

import aiohttp

from tests.conftest import LiveServer


async def test_health_is_ok_when_the_database_answers(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{live_server.url}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok"}


async def test_health_fails_when_the_database_is_gone(live_server: LiveServer) -> None:
    await live_server.runtime.database.close()
    async with aiohttp.ClientSession() as session, session.get(f"{live_server.url}/healthz") as r:
        assert r.status == 503
        assert await r.json() == {"status": "unavailable"}
