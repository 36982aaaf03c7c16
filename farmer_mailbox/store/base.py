"""Shared plumbing for the SQL mixins: every mixin reads and writes through these helpers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite


class SqlBase:
    """Small helpers over one connection.

    Reads on the reader go through aiosqlite: one trip to the connection's thread per statement
    (execute_fetchall / execute_insert, not execute + fetch + close). Inside a write transaction
    (`_sync` set: the writer's own sqlite3 connection, used only while the writer lock is held)
    statements run inline on the event loop: each takes microseconds, while a thread trip costs
    far more than the statement under load, and an inbound message needs a few dozen of them.
    Statements that may run long (fan-outs over the audience) use `_exec_in_thread`.
    """

    _conn: aiosqlite.Connection
    _sync: sqlite3.Connection | None = None

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        if self._sync is not None:
            row: aiosqlite.Row | None = self._sync.execute(sql, params).fetchone()
            return row
        rows = await self._conn.execute_fetchall(sql, params)
        for found in rows:
            return found
        return None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        if self._sync is not None:
            return self._sync.execute(sql, params).fetchall()
        return list(await self._conn.execute_fetchall(sql, params))

    async def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Like `_all`, as plain tuples (for many rows: building a Row per row costs as much again)."""
        if self._sync is not None:
            cursor = self._sync.cursor()
            cursor.row_factory = None
            rows: list[tuple[Any, ...]] = cursor.execute(sql, params).fetchall()
            return rows
        return [tuple(r) for r in await self._conn.execute_fetchall(sql, params)]

    async def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return row[0] if row is not None else None

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; return how many rows it changed."""
        if self._sync is not None:
            return self._sync.execute(sql, params).rowcount
        return await self._exec_in_thread(sql, params)

    async def _exec_in_thread(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one possibly long statement off the event loop; return how many rows it changed."""
        before = self._conn.total_changes
        await self._conn.execute_fetchall(sql, params)
        return self._conn.total_changes - before

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one INSERT; return the new row id."""
        if self._sync is not None:
            rowid = self._sync.execute(sql, params).lastrowid
            if rowid is None:
                raise RuntimeError("INSERT returned no row id")
            return rowid
        row = await self._conn.execute_insert(sql, params)
        if row is None or row[0] is None:
            raise RuntimeError("INSERT returned no row id")
        return int(row[0])

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self._sync is not None:
            self._sync.executemany(sql, rows)
            return
        await self._conn.executemany(sql, rows)


def subtree_bounds(code12: str, digits: int) -> tuple[str, str]:
    """Return [low, high) text bounds of every 12-digit code under the first `digits` digits."""
    prefix = code12[:digits]
    return prefix.ljust(12, "0"), str(int(prefix) + 1).rjust(digits, "0").ljust(12, "0")
