"""The WeChat access token: fetched by one process at a time, shared by all of them.

Each fetch from `/cgi-bin/token` invalidates the previous token (after a short overlap) and
fetches are capped per day, so the token lives in the shared store. Inside one process a
lock makes concurrent sends wait for a single refresh; across processes the store's lease
lets one refresh while the others poll for its result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.types import ExpiringValue, ExpiringValueStore

log = logging.getLogger(__name__)

FetchToken = Callable[[], Awaitable[tuple[str, int]]]

MAX_MARGIN_SECONDS = 300
LEASE_SECONDS = 15.0
POLL_SECONDS = 0.1
FAILURE_PAUSE_SECONDS = 30.0
"""After a failed fetch (wrong secret, IP not whitelisted), callers get the same error for
this long instead of spending the daily fetch quota on retries."""


class TokenUnavailable(Exception):
    """Another process holds the refresh lease and has not produced a token in time."""


class AccessTokens:
    def __init__(
        self,
        store: ExpiringValueStore,
        fetch: FetchToken,
        *,
        key: str,
        owner: str,
        lease_seconds: float = LEASE_SECONDS,
        failure_pause: float = FAILURE_PAUSE_SECONDS,
    ) -> None:
        self._store = store
        self._fetch = fetch
        self._key = key
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._failure_pause = failure_pause
        self._lock = asyncio.Lock()
        self._known: ExpiringValue | None = None
        self._failed: tuple[float, Exception] | None = None

    async def get(self, *, rejected: str | None = None) -> str:
        """A valid token; `rejected` is one WeChat just refused, so never return it again."""
        if (token := self._usable(self._known, rejected)) is not None:
            return token
        async with self._lock:
            # Whoever held the lock before us may have refreshed it already.
            if (token := self._usable(self._known, rejected)) is not None:
                return token
            if (token := self._usable(await self._store.read(self._key), rejected)) is not None:
                return token
            if self._failed is not None:
                failed_at, error = self._failed
                if asyncio.get_running_loop().time() - failed_at < self._failure_pause:
                    raise error.with_traceback(None)
            return await self._refresh(rejected)

    async def _refresh(self, rejected: str | None) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease_seconds * 2
        while True:
            if await self._store.try_lease(
                self._key, owner=self._owner, seconds=self._lease_seconds
            ):
                return await self._fetch_leased(rejected)
            await asyncio.sleep(POLL_SECONDS)
            stored = await self._store.read(self._key)
            if (token := self._usable(stored, rejected)) is not None:
                return token
            if loop.time() > deadline:
                raise TokenUnavailable("another process is refreshing the WeChat access token")

    async def _fetch_leased(self, rejected: str | None) -> str:
        try:
            # Another process may have finished a refresh just before we took the lease.
            if (token := self._usable(await self._store.read(self._key), rejected)) is not None:
                await self._store.release(self._key, owner=self._owner)
                return token
            value, expires_in = await self._fetch()
        except Exception as exc:
            self._failed = (asyncio.get_running_loop().time(), exc)
            await self._store.release(self._key, owner=self._owner)
            raise
        except BaseException:  # cancelled: not a failure of WeChat's, but let go of the lease
            await self._store.release(self._key, owner=self._owner)
            raise
        self._failed = None
        margin = min(MAX_MARGIN_SECONDS, expires_in // 5)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in - margin)
        await self._store.write(self._key, value, expires_at=expires_at, owner=self._owner)
        self._known = ExpiringValue(value, expires_at)
        log.info("fetched a new WeChat access token (valid %ds)", expires_in)
        return value

    def _usable(self, candidate: ExpiringValue | None, rejected: str | None) -> str | None:
        if candidate is None or candidate.value == rejected:
            return None
        if candidate.expires_at <= datetime.now(UTC):
            return None
        self._known = candidate
        return candidate.value
