"""Shared plumbing for the SQL mixins: every mixin reads and writes through `self._conn`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite


class SqlBase:
    """Small helpers over one aiosqlite connection."""

    _conn: aiosqlite.Connection

    # Each helper is one trip to the connection's thread (aiosqlite's execute_fetchall /
    # execute_insert), not three (execute, fetch, close): at a few dozen statements per inbound
    # message, the trips are most of the cost.

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        for row in rows:
            return row
        return None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return row[0] if row is not None else None

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; return how many rows it changed."""
        before = self._conn.total_changes
        await self._conn.execute_fetchall(sql, params)
        return self._conn.total_changes - before

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one INSERT; return the new row id."""
        row = await self._conn.execute_insert(sql, params)
        if row is None or row[0] is None:
            raise RuntimeError("INSERT returned no row id")
        return int(row[0])

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)


def subtree_bounds(code12: str, digits: int) -> tuple[str, str]:
    """Return [low, high) text bounds of every 12-digit code under the first `digits` digits."""
    prefix = code12[:digits]
    return prefix.ljust(12, "0"), str(int(prefix) + 1).rjust(digits, "0").ljust(12, "0")
