"""The per-message SQL path on SQLite: group commit, another process writing, checkpoints."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from storage import models, sql
from storage.checkpoint import WalCheckpointer
from storage.database import Database

INSERT = "INSERT INTO system_value (key, value) VALUES (?, ?)"


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "sql.sqlite3"
    database = Database(f"sqlite://{path}")
    await database.open()
    try:
        yield path
    finally:
        await database.close()


async def stored_keys() -> list[str]:
    [rows] = await sql.run(("SELECT key FROM system_value WHERE key LIKE 't-%' ORDER BY key", ()))
    return [row["key"] for row in rows]


@pytest.mark.usefixtures("sqlite_file")
async def test_a_failing_group_is_undone_alone() -> None:
    await sql.execute(INSERT, "t-taken", "1")
    outcomes = await asyncio.gather(
        sql.run((INSERT, ("t-a", "1")), (INSERT, ("t-b", "1"))),
        sql.run((INSERT, ("t-c", "1")), (INSERT, ("t-taken", "2"))),
        sql.run((INSERT, ("t-d", "1"))),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], IntegrityError)
    assert [type(outcome) for outcome in (outcomes[0], outcomes[2])] == [list, list]
    # The failing group's first insert went with it; the other groups are kept.
    assert await stored_keys() == ["t-a", "t-b", "t-d", "t-taken"]


async def test_a_writer_in_another_process_delays_but_never_stalls_the_loop(
    sqlite_file: Path,
) -> None:
    other = sqlite3.connect(sqlite_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute(INSERT, ("t-other", "1"))
    write = asyncio.create_task(sql.execute(INSERT, "t-ours", "1"))
    ticks = 0
    for _ in range(20):  # the event loop keeps running while the write waits for the lock
        await asyncio.sleep(0.01)
        ticks += 1
    assert not write.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(write, timeout=5)
    assert ticks == 20
    assert await stored_keys() == ["t-other", "t-ours"]


async def test_an_orm_transaction_holds_the_write_lock_from_its_start(sqlite_file: Path) -> None:
    other = sqlite3.connect(sqlite_file, timeout=0, isolation_level=None)
    async with in_transaction():
        await models.SystemValue.filter(key="t-ours").first()  # reads first
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute(INSERT, ("t-other", "1"))
        # A deferred transaction would fail here: its snapshot would predate t-other.
        await models.SystemValue.create(key="t-ours", value="1")
    other.execute(INSERT, ("t-other", "1"))
    other.close()
    assert await stored_keys() == ["t-other", "t-ours"]


def file_size(path: Path) -> int:
    return path.stat().st_size


async def autocheckpoint() -> int:
    [rows] = await sql.run(("PRAGMA wal_autocheckpoint", ()))
    return int(next(iter(rows[0].values())))


async def test_checkpoints_run_off_the_loop_while_the_server_writes(sqlite_file: Path) -> None:
    checkpointer = WalCheckpointer.for_default_connection()
    assert checkpointer is not None and checkpointer.path == sqlite_file
    checkpointer.interval = 0.05
    running = asyncio.create_task(checkpointer.run_forever())
    await asyncio.sleep(0.02)
    assert await autocheckpoint() == 0  # the server's own commits no longer checkpoint
    for number in range(200):
        await sql.execute(INSERT, f"t-{number:03d}", "x" * 2000)
    await asyncio.sleep(0.3)
    # 400 kB of rows reached the database file; on its own SQLite copies at 4 MB of log.
    assert file_size(sqlite_file) > 400_000
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await autocheckpoint() == 1000  # SQLite's own checkpoints are back
    assert len(await stored_keys()) == 200


async def test_a_checkpointer_that_cannot_open_the_file_gives_checkpoints_back(
    sqlite_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer(sqlite_file.parent / "missing" / "helpline.sqlite3")
    await asyncio.wait_for(checkpointer.run_forever(), timeout=10)  # returns, does not raise
    assert "WAL checkpoints failed" in caplog.text
    assert await autocheckpoint() == 1000  # SQLite checkpoints on commit again


async def test_no_checkpointer_for_a_database_in_memory() -> None:
    database = Database("sqlite://:memory:")
    await database.open()
    try:
        assert WalCheckpointer.for_default_connection() is None
    finally:
        await database.close()
