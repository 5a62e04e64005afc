"""tortoise's SQLite backend, with a connection the event loop's thread may use too.

aiosqlite gives the connection to a worker thread and hands it every statement. For the
per-message statements that hop costs more than the statements: the loop and the worker
take turns holding the GIL, so the worker adds its own Python and the hand-overs without
adding a core. `storage.sql` therefore runs those statements on the loop's thread, under
the client's lock like every other query, which sqlite3 allows only for a connection
opened with `check_same_thread=False`. The ORM's own queries still go through the worker.

ORM transactions begin `IMMEDIATE`, taking the write lock at once. tortoise begins them
deferred: such a transaction reads, then fails its first write at once with "database is
locked" if another process (the CLI) committed in between, since its snapshot is stale.

Timestamps are stored as text, `YYYY-MM-DD HH:MM:SS.ffffff+00:00`, as tortoise writes them;
the adapter below makes sqlite3 write a `datetime` parameter of a raw statement the same way,
so hand-written SQL passes datetimes in every dialect.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import aiosqlite
from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

# The C method through C wrappers, no Python frame: a message binds about 8 timestamps,
# some of them the same instant, and formatting one (sprintf) costs ten times a lookup.
sqlite3.register_adapter(
    datetime, functools.lru_cache(maxsize=256)(functools.partial(datetime.isoformat, sep=" "))
)
# None and bool are bound as they would be anyway (NULL, 0/1). Without an adapter each such
# parameter first misses a class attribute lookup, whose AttributeError costs more than the
# rest of binding it; a message's statements bind about 20 of them. `{}.get` maps any value
# to None, in C.
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))
sqlite3.register_adapter(bool, int)

ENGINE = __name__
"""The engine name tortoise loads this module by (see `storage.database.tortoise_config`)."""


class LoopSqliteClient(SqliteClient):
    """A `SqliteClient` whose sqlite3 connection is not bound to aiosqlite's thread."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        self._connection = await aiosqlite.connect(
            self.filename, isolation_level=None, check_same_thread=False
        )
        self._connection._conn.row_factory = sqlite3.Row
        for pragma, value in self.pragmas.items():
            cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
            await cursor.close()
        await self._post_connect()

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)

    def raw_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection itself; hold `acquire_connection()` while using it."""
        if self._connection is None:
            raise RuntimeError("the SQLite connection is not open")
        return self._connection._conn


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


client_class = LoopSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return LoopSqliteClient
