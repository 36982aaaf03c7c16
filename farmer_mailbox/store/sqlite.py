"""SQLite under asyncio: one writer connection behind a lock, one reader, numbered migrations.

All writes go through `transaction()`: an asyncio lock around `BEGIN IMMEDIATE`, so there is
exactly one writer and no SQLITE_BUSY between our own tasks. WAL lets the reader connection
serve queries while a write is in progress. Foreign keys are on for both connections.

Checkpoints (copying the WAL back into the database file, with its fsyncs) run on a connection
of their own, in its own thread, every CHECKPOINT_SECONDS: left to SQLite's auto-checkpoint they
would run inside whichever COMMIT crossed 1000 pages, on the event loop, holding the writer.
A PASSIVE checkpoint never waits, so under sustained load (a reader always inside a snapshot) it
never backfills the whole log and the WAL is never started over: it would grow without bound.
When the WAL file passes WAL_RESTART_BYTES the checkpointer therefore takes the writer's turn and
runs a RESTART checkpoint, which waits for the readers' current statements, so the next write
starts the log from the beginning (and journal_size_limit cuts the file back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from farmer_mailbox.store.sql_alerts import AlertReads, AlertWrites
from farmer_mailbox.store.sql_market import MarketReads, MarketWrites
from farmer_mailbox.store.sql_outbox import OutboxReads, OutboxWrites
from farmer_mailbox.store.sql_record import RecordReads
from farmer_mailbox.store.sql_regions import RegionReads, RegionWrites
from farmer_mailbox.store.sql_users import UserReads, UserWrites
from farmer_mailbox.store.sql_wechat import WechatReads, WechatWrites

log = logging.getLogger(__name__)
BUSY_WAIT = 10.0   # seconds a transaction waits for another process's write to finish
CHECKPOINT_SECONDS = 0.5   # how often the checkpointer copies the WAL into the database file
WAL_LIMIT_BYTES = 64 * 1024 * 1024   # the WAL file is cut back to this after a checkpoint reset it
WAL_RESTART_BYTES = 64 * 1024 * 1024   # past this, the checkpointer holds the writer and restarts the log
STATEMENT_CACHE = 1024   # prepared statements kept per connection (IN lists of every length add up; default 128)
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


def migration_files() -> list[tuple[int, str, str]]:
    """Return (number, name, sql) for every packaged migration, in order."""
    base = resources.files("farmer_mailbox.store") / "migrations"
    found = []
    for entry in base.iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


async def _connect(path: str) -> aiosqlite.Connection:
    # check_same_thread=False: the writer's connection is also used inline by SqliteTx, only while
    # the writer lock is held and no aiosqlite call on it is in flight (see SqlBase).
    conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False,
                                   cached_statements=STATEMENT_CACHE)
    conn.row_factory = aiosqlite.Row
    try:
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
    except BaseException:   # not a database: close it, or its thread outlives the event loop
        await conn.close()
        raise
    return conn


class SqliteTx(WechatWrites, UserReads, UserWrites, RegionReads, RegionWrites, RecordReads, OutboxReads,
               OutboxWrites, AlertReads, AlertWrites, MarketReads, MarketWrites):
    """One write transaction: every read and write method runs on the writer connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._sync = conn._conn   # the writer's sqlite3 connection: inline statements (see SqlBase)
        self._head: tuple[int, str] | None = None

    async def savepoint(self, name: str) -> None:
        """Open a savepoint, so part of the transaction can be undone alone."""
        await self._exec(f"SAVEPOINT {name}")

    async def release(self, name: str) -> None:
        """Keep what was done since the savepoint."""
        await self._exec(f"RELEASE {name}")

    async def rollback_to(self, name: str) -> None:
        """Undo what was done since the savepoint (and forget the cached record head)."""
        await self._exec(f"ROLLBACK TO {name}")
        await self._exec(f"RELEASE {name}")
        self._head = None


class SqliteStore(WechatReads, UserReads, RegionReads, RecordReads, OutboxReads, AlertReads, MarketReads):
    """The store: reads on the reader connection, writes through `transaction()`."""

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 checkpointer: aiosqlite.Connection | None = None) -> None:
        self.path = path
        self._writer = writer
        self._conn = reader
        self._lock = asyncio.Lock()
        self._closed = False
        self._checkpointer = checkpointer
        self._checkpoints: asyncio.Task[None] | None = None
        if checkpointer is not None:
            self._checkpoints = asyncio.get_running_loop().create_task(self._checkpoint_loop(checkpointer))

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        """Open (creating if missing) the database file and its parent directory."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        opened: list[aiosqlite.Connection] = []
        try:
            for _ in range(3):   # writer, reader, checkpointer
                opened.append(await _connect(str(path)))
            writer, reader, checkpointer = opened
            await writer.execute("PRAGMA busy_timeout=0")   # waits happen in transaction(), off the event loop
            await writer.execute("PRAGMA wal_autocheckpoint=0")   # the checkpointer does it, off the loop
            await writer.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        except BaseException:
            for conn in opened:
                await conn.close()
            raise
        return cls(str(path), writer, reader, checkpointer)

    async def _checkpoint_loop(self, conn: aiosqlite.Connection) -> None:
        """Copy the WAL into the database file now and then, in the checkpointer's own thread."""
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                if self._wal_bytes() > WAL_RESTART_BYTES:
                    await self._restart_wal(conn)
            except sqlite3.Error as exc:   # busy with another process's checkpoint: next round
                log.debug("checkpoint skipped: %s", exc)

    def _wal_bytes(self) -> int:
        try:
            return Path(self.path + "-wal").stat().st_size
        except OSError:
            return 0

    async def _restart_wal(self, conn: aiosqlite.Connection) -> None:
        """Backfill the whole WAL and have the next write start it over (holds our writer meanwhile).

        The PASSIVE round just before copied nearly everything, so the writer waits only for the
        last frames and one fsync; the readers' statements finish, new ones read the database file.
        """
        async with self._lock:
            if self._closed:
                return
            async with conn.execute("PRAGMA wal_checkpoint(RESTART)") as cur:
                row = await cur.fetchone()
        if row is not None and row[0]:
            log.debug("WAL restart postponed: a reader or another process held it")
        else:
            log.debug("WAL restarted at %d bytes", self._wal_bytes())

    async def close(self) -> None:
        """Close the connections (waits for a running transaction); closing twice is harmless."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._checkpoints is not None:
                self._checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._checkpoints
            await self._conn.close()
            await self._writer.close()
            if self._checkpointer is not None:
                await self._checkpointer.close()   # the last connection out checkpoints what is left

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """Run a block as the single writer: BEGIN IMMEDIATE, COMMIT, or ROLLBACK on error."""
        async with self._lock:
            raw = self._writer._conn
            await self._begin(raw)
            try:
                yield SqliteTx(self._writer)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")   # WAL, synchronous=NORMAL: appends to the log, no fsync; inline

    async def _begin(self, raw: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE inline; while another process writes, retry without blocking the loop.

        The writer connection's busy_timeout is 0, so a busy database answers at once instead of
        holding the event loop; the wait (up to BUSY_WAIT seconds, like busy_timeout) happens here.
        """
        deadline = time.monotonic() + BUSY_WAIT
        delay = 0.001
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def applied_migrations(self) -> set[int]:
        """The migration numbers recorded as applied (empty for a new database)."""
        async with self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ) as cur:
            if await cur.fetchone() is None:
                return set()
        async with self._conn.execute("SELECT version FROM schema_migrations") as cur:
            return {int(r[0]) for r in await cur.fetchall()}

    async def schema_version(self) -> int:
        """Return the highest applied migration number (0 for an empty database)."""
        return max(await self.applied_migrations(), default=0)

    async def migrate(self) -> list[int]:
        """Apply every migration not yet recorded (not only newer ones), each in its own transaction."""
        await self._writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = await self.applied_migrations()
        applied = []
        for number, name, sql in migration_files():
            if number in done:
                continue
            async with self._lock:
                try:
                    await self._writer.executescript(
                        f"BEGIN IMMEDIATE;\n{sql}\nINSERT INTO schema_migrations VALUES "
                        f"({number}, '{name}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));\nCOMMIT;"
                    )
                except Exception:
                    if self._writer.in_transaction:
                        await self._writer.execute("ROLLBACK")
                    raise
            log.info("applied migration %04d_%s", number, name)
            applied.append(number)
        return applied

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self._conn.execute("SELECT 1") as cur:
                return (await cur.fetchone()) is not None
        except Exception:
            return False

    async def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Run a one-value query on the reader (for health and diagnostics)."""
        async with self._conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None
