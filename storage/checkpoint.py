"""WAL checkpoints for a server on SQLite, run in a thread so the event loop never waits.

SQLite's own checkpoints run inside the commit that fills the log past 1,000 pages, and
a checkpoint waits for the disk twice (fsync of the log, then of the database file). The
server commits its per-message statements on the event loop's thread (`storage.sql`), so
there it switches them off and copies the log into the database file once a second from
a connection of its own, in a worker thread. That connection stays open between
checkpoints: opening one reads and parses the whole schema. Should checkpoints fail,
SQLite's own are switched back on: a slower loop is better than a log that grows without
end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from tortoise.connection import get_connection

from storage.sqlite_engine import LoopSqliteClient

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0
SQLITE_DEFAULT_AUTOCHECKPOINT = 1000
BUSY_TIMEOUT_SECONDS = 5.0


class WalCheckpointer:
    """Keeps the write-ahead log of one SQLite file short, from outside the event loop."""

    def __init__(self, path: Path, *, interval: float = CHECKPOINT_SECONDS) -> None:
        self.path = path
        self.interval = interval

    @classmethod
    def for_default_connection(cls) -> WalCheckpointer | None:
        """A checkpointer when the database is an SQLite file in WAL mode, else None."""
        connection = get_connection("default")
        if not isinstance(connection, LoopSqliteClient) or connection.filename == ":memory:":
            return None
        if str(connection.pragmas.get("journal_mode", "")).upper() != "WAL":
            return None
        return cls(Path(connection.filename))

    async def run_forever(self) -> None:
        await _set_autocheckpoint(0)
        try:
            connection = await asyncio.to_thread(
                sqlite3.connect,
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                await self._checkpoint_forever(connection)
            finally:
                connection.close()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("WAL checkpoints failed; SQLite checkpoints on commit again")
        finally:
            with contextlib.suppress(Exception):
                await _set_autocheckpoint(SQLITE_DEFAULT_AUTOCHECKPOINT)

    async def _checkpoint_forever(self, connection: sqlite3.Connection) -> None:
        """One checkpoint at a time, each in some worker thread: the connection may move."""
        running: asyncio.Future[tuple[int, int]] | None = None
        try:
            while True:
                await asyncio.sleep(self.interval)
                running = asyncio.ensure_future(asyncio.to_thread(self.checkpoint, connection))
                await asyncio.shield(running)
        finally:
            if running is not None and not running.done():
                await asyncio.wait([running])  # its thread still uses the connection

    @staticmethod
    def checkpoint(connection: sqlite3.Connection) -> tuple[int, int]:
        """Copy what readers no longer need from the log into the database file.

        Returns the log's length and how much of it is now in the file (in pages)."""
        busy, log_pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy:
            log.debug("WAL checkpoint found the database busy; next time")
        return int(log_pages), int(copied)


async def _set_autocheckpoint(pages: int) -> None:
    await get_connection("default").execute_script(f"PRAGMA wal_autocheckpoint={pages}")
