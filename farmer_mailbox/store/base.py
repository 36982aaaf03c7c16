"""Shared plumbing for the SQL mixins: every mixin reads and writes through `self._conn`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite


class SqlBase:
    """Small helpers over one aiosqlite connection."""

    _conn: aiosqlite.Connection

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, params) as cur:
            row: aiosqlite.Row | None = await cur.fetchone()
            return row

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return row[0] if row is not None else None

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; return how many rows it changed."""
        async with self._conn.execute(sql, params) as cur:
            return cur.rowcount

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one INSERT; return the new row id."""
        async with self._conn.execute(sql, params) as cur:
            if cur.lastrowid is None:
                raise RuntimeError("INSERT returned no row id")
            return cur.lastrowid

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)


def subtree_bounds(code12: str, digits: int) -> tuple[str, str]:
    """Return [low, high) text bounds of every 12-digit code under the first `digits` digits."""
    prefix = code12[:digits]
    return prefix.ljust(12, "0"), str(int(prefix) + 1).rjust(digits, "0").ljust(12, "0")
