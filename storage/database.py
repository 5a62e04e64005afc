"""Opening the database and bringing its schema up to date with the versioned migrations.

Whichever process starts first (server or CLI) creates or upgrades the schema; the others
find it current. Migrations live in `storage/migrations/` and are applied in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.exceptions import BaseORMException
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from bot.config import redact_url
from bot.errors import StorageError
from storage import sqlite_engine

log = logging.getLogger(__name__)

APP_LABEL = "models"
MIGRATE_ATTEMPTS = 3


def connection_config(db_url: str) -> str | dict[str, Any]:
    """SQLite URLs get the backend of `storage.sqlite_engine`; others stay as they are."""
    if not db_url.startswith("sqlite://"):
        return db_url
    return {**expand_db_url(db_url), "engine": sqlite_engine.ENGINE}


def tortoise_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(db_url)},
        "apps": {
            APP_LABEL: {
                "models": ["storage.models"],
                "default_connection": "default",
                "migrations": "storage.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` CLI when writing new migrations:
#   HELPLINE_DATABASE_URL=sqlite://data/dev.sqlite3 tortoise -c storage.database.TORTOISE_ORM ...
TORTOISE_ORM = tortoise_config(
    os.environ.get("HELPLINE_DATABASE_URL", "sqlite://data/helpline.sqlite3")
)


def ensure_sqlite_directory(db_url: str) -> None:
    """SQLite creates the file but not its folder; `./data/` may not exist on a first run."""
    if not db_url.startswith("sqlite://"):
        return
    path = db_url.removeprefix("sqlite://").split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


SQLITE_DEFAULTS = {"synchronous": "NORMAL", "journal_size_limit": str(64 * 1024 * 1024)}
"""WAL with synchronous=NORMAL: a commit survives a crash of the process (not of the
machine's power) and costs no fsync. The log may keep 64 MB on disk once checkpointed
(tortoise's default is 16 kB): cutting it back after each checkpoint and growing it again
made some commits wait for the file system (up to 44 ms measured under load)."""


def with_sqlite_defaults(db_url: str) -> str:
    """`SQLITE_DEFAULTS` for what the URL does not set, e.g. `?synchronous=FULL`."""
    if not db_url.startswith("sqlite://"):
        return db_url
    missing = [
        f"{key}={value}" for key, value in SQLITE_DEFAULTS.items() if f"{key}=" not in db_url
    ]
    if not missing:
        return db_url
    return db_url + ("&" if "?" in db_url else "?") + "&".join(missing)


class Database:
    """One tortoise context for this process: open, migrate, close."""

    def __init__(self, url: str) -> None:
        self._url = with_sqlite_defaults(url)
        self._context: TortoiseContext | None = None

    async def open(self, *, migrate: bool = True, target: str | None = None) -> None:
        ensure_sqlite_directory(self._url)
        # tortoise caches compiled SQL per table name, not per dialect: a fresh start per open.
        EXECUTOR_CACHE.clear()
        context = TortoiseContext()
        context.__enter__()
        try:
            await context.init(config=tortoise_config(self._url))
        except (BaseORMException, OSError) as exc:
            context.__exit__(None, None, None)
            raise StorageError(f"cannot open {redact_url(self._url)}: {exc}") from exc
        self._context = context
        if migrate:
            await self.migrate(target=target)

    async def migrate(self, *, target: str | None = None) -> None:
        """Apply pending migrations (up to `target`, e.g. `0001_initial`)."""
        targets = [MigrationTarget(APP_LABEL, target or "__latest__")]
        app_config = tortoise_config(self._url)["apps"]
        for attempt in range(1, MIGRATE_ATTEMPTS + 1):
            try:
                executor = MigrationExecutor(get_connection("default"), app_config)
                await executor.migrate(targets)
                return
            except BaseORMException as exc:
                # Another process may be creating the same schema right now; look again.
                if attempt == MIGRATE_ATTEMPTS:
                    raise StorageError(f"schema migration failed: {exc}") from exc
                log.warning("migration attempt %d failed (%s); retrying", attempt, exc)
                await asyncio.sleep(0.5 * attempt)

    async def ping(self) -> bool:
        try:
            await get_connection("default").execute_query("SELECT 1")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        if self._context is not None:
            await self._context.close_connections()
            with contextlib.suppress(ValueError):  # closed from another task's context
                self._context.__exit__(None, None, None)
            self._context = None
