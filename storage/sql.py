"""Hand-written SQL for the per-message path, run in groups that commit together.

Two costs dominate a busy server, and this module removes both:

- The ORM's query builder spends 0.1 to 0.5 ms of CPU per statement, so the hot path
  writes its SQL once, with `?` placeholders converted per dialect.
- SQLite has one connection, guarded by one lock. A transaction per statement group
  costs more than the group itself; so on SQLite, every group submitted while the
  connection is busy waits for the next turn, and all of them run in one transaction
  (group commit). Should one group fail, the batch runs again with a savepoint per
  group, so that only that group is undone. The turn runs on the event loop's thread,
  not aiosqlite's: its statements take microseconds, and the worker would only add
  thread hand-overs on the GIL (see `storage.sqlite_engine`). What waits runs in threads:
  a batch while another process holds the write lock, and the checkpoints that copy the
  log into the database file (`storage.checkpoint`).

On PostgreSQL the pool already runs statements side by side; a group is a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.fields import DatetimeField
from tortoise.transactions import in_transaction

from storage.sqlite_engine import LoopSqliteClient

Statement = tuple[str, Sequence[Any]]
Rows = list[dict[str, Any]]

_PLACEHOLDER = re.compile(r"\?")
_TIME = DatetimeField()


@cache
def _numbered(sql: str) -> str:
    counter = iter(range(1, 1000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


@cache
def _percent(sql: str) -> str:
    return _PLACEHOLDER.sub("%s", sql)


def _connection() -> BaseDBAsyncClient:
    return get_connection("default")


def _prepare(connection: BaseDBAsyncClient, sql: str) -> str:
    if connection.capabilities.dialect == "sqlite":
        return sql
    return _percent(sql) if "psycopg" in type(connection).__module__ else _numbered(sql)


def _is_sqlite(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "sqlite"


def on_sqlite() -> bool:
    """The connected database is SQLite (one connection: keep each write to one trip)."""
    return _is_sqlite(_connection())


def py_time(value: Any) -> datetime | None:
    """A timestamp read back from a raw row, timezone-aware in every dialect."""
    return None if value is None else _TIME.to_python_value(value)


async def run(*statements: Statement) -> list[Rows]:
    """Run statements in order, atomically; returns each statement's rows."""
    connection = _connection()
    if _is_sqlite(connection) and not isinstance(connection, TransactionalDBClient):
        group_commit = _GROUP_COMMITS.get(connection)
        if group_commit is None:
            group_commit = _GROUP_COMMITS[connection] = _GroupCommit(connection)
        return await group_commit.submit(statements)
    return await _run_directly(connection, statements)


async def fetch_one(sql: str, *params: Any) -> dict[str, Any] | None:
    [rows] = await run((sql, params))
    return rows[0] if rows else None


async def execute(sql: str, *params: Any) -> None:
    await run((sql, params))


async def _run_directly(
    connection: BaseDBAsyncClient, statements: Sequence[Statement]
) -> list[Rows]:
    if len(statements) == 1:
        sql, params = statements[0]
        return [await connection.execute_query_dict(_prepare(connection, sql), list(params))]
    async with in_transaction() as transaction:
        return [
            await transaction.execute_query_dict(_prepare(transaction, sql), list(params))
            for sql, params in statements
        ]


class _GroupCommit:
    """Collects statement groups and runs each collection in one SQLite transaction."""

    def __init__(self, connection: BaseDBAsyncClient) -> None:
        self._connection = connection
        self._waiting: list[tuple[Sequence[Statement], asyncio.Future[list[Rows]]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._busy_timeout_ms: int | None = None

    def submit(self, statements: Sequence[Statement]) -> asyncio.Future[list[Rows]]:
        future: asyncio.Future[list[Rows]] = asyncio.get_running_loop().create_future()
        self._waiting.append((statements, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return future

    async def _flush(self) -> None:
        connection = self._connection
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with connection.acquire_connection():
                    outcomes = await self._run([statements for statements, _ in batch])
            except Exception as exc:
                outcomes = [exc] * len(batch)
            except BaseException:
                for _, future in batch:
                    future.cancel()
                raise
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(_translate(outcome))
                else:
                    future.set_result(outcome)

    async def _run(self, groups: list[Sequence[Statement]]) -> list[list[Rows] | BaseException]:
        """On the loop's thread while the write lock is free; else in a thread that waits."""
        raw = _sqlite3_connection(self._connection)
        if self._busy_timeout_ms is None:
            self._busy_timeout_ms = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
        try:
            with _no_busy_wait(raw, self._busy_timeout_ms):
                _begin(raw)
        except _WriterBusy:
            # Another process writes (an import from the CLI): wait for it off the loop.
            waiting = asyncio.ensure_future(
                asyncio.to_thread(_run_groups, raw, groups, begun=False)
            )
            try:
                return await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The thread still uses the connection: keep the lock until it is done.
                await asyncio.wait([waiting])
                raise
        return _run_groups(raw, groups, begun=True)


def _sqlite3_connection(connection: BaseDBAsyncClient) -> sqlite3.Connection:
    if not isinstance(connection, LoopSqliteClient):
        raise TypeError(f"SQLite needs the {LoopSqliteClient.__name__} backend")
    return connection.raw_connection()


class _WriterBusy(Exception):
    """Another connection holds SQLite's write lock."""


@contextlib.contextmanager
def _no_busy_wait(connection: sqlite3.Connection, restore_ms: int) -> Iterator[None]:
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
            raise _WriterBusy from exc
        raise
    finally:
        connection.execute(f"PRAGMA busy_timeout = {restore_ms}")


def _begin(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")


def _run_groups(
    connection: sqlite3.Connection, groups: list[Sequence[Statement]], *, begun: bool
) -> list[list[Rows] | BaseException]:
    """All groups in one transaction, without savepoints: groups rarely fail. When one
    does, the transaction is undone and run again with a savepoint per group, so that one
    group's error does not undo the others."""
    if not begun:
        _begin(connection)
    try:
        outcomes: list[list[Rows] | BaseException] = [
            _statements(connection, statements) for statements in groups
        ]
    except sqlite3.Error as exc:
        _rollback(connection)
        if len(groups) == 1:
            return [exc]
        return _run_groups_apart(connection, groups)
    except BaseException:
        _rollback(connection)
        raise
    _commit(connection)
    return outcomes


def _run_groups_apart(
    connection: sqlite3.Connection, groups: list[Sequence[Statement]]
) -> list[list[Rows] | BaseException]:
    _begin(connection)
    outcomes: list[list[Rows] | BaseException] = []
    try:
        for statements in groups:
            connection.execute("SAVEPOINT grp")
            try:
                outcomes.append(_statements(connection, statements))
            except sqlite3.Error as exc:
                connection.execute("ROLLBACK TO grp")
                outcomes.append(exc)
            connection.execute("RELEASE grp")
    except BaseException:
        _rollback(connection)
        raise
    _commit(connection)
    return outcomes


def _statements(connection: sqlite3.Connection, statements: Sequence[Statement]) -> list[Rows]:
    """Rows as dicts, built from plain tuples: `dict(sqlite3.Row)` looks every column up by
    name, comparing it with each column's name in turn."""
    cursor = connection.cursor()
    cursor.row_factory = None
    found: list[Rows] = []
    for sql, params in statements:
        rows = cursor.execute(sql, tuple(params)).fetchall()
        if rows:
            names = [column[0] for column in cursor.description]
            found.append([dict(zip(names, row, strict=True)) for row in rows])
        else:
            found.append([])
    return found


def _commit(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise


def _rollback(connection: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (it does on some errors)."""
    if connection.in_transaction:
        connection.execute("ROLLBACK")


def _translate(error: BaseException) -> BaseException:
    if isinstance(error, sqlite3.IntegrityError):
        return IntegrityError(error)
    if isinstance(error, sqlite3.Error):
        return OperationalError(error)
    return error


_GROUP_COMMITS: weakref.WeakKeyDictionary[BaseDBAsyncClient, _GroupCommit] = (
    weakref.WeakKeyDictionary()
)
