"""SQL for the region tree."""

from __future__ import annotations

from collections.abc import Sequence

from farmer_mailbox.models import Level, Region
from farmer_mailbox.store.base import SqlBase

_COLUMNS = "code, name, level, parent, short_name"


def _region(row: Sequence[object]) -> Region:
    parent = str(row[3]) if row[3] is not None else None
    return Region(str(row[0]), str(row[1]), Level(int(str(row[2]))), parent, str(row[4]))


class RegionReads(SqlBase):
    """Region queries."""

    async def all_regions(self) -> list[Region]:
        """Every region, parents before children."""
        return [_region(r) for r in await self._all(f"SELECT {_COLUMNS} FROM regions ORDER BY level, code")]

    async def get_region(self, code: str) -> Region | None:
        """One region by its 12-digit code."""
        row = await self._one(f"SELECT {_COLUMNS} FROM regions WHERE code = ?", (code,))
        return _region(row) if row else None

    async def region_count(self) -> int:
        """How many regions are loaded."""
        return int(await self._value("SELECT COUNT(*) FROM regions"))


class RegionWrites(SqlBase):
    """Region changes."""

    async def upsert_regions(self, regions: Sequence[Region]) -> None:
        """Insert regions or update their names (parents must already exist or come first)."""
        await self._many(
            "INSERT INTO regions (code, name, level, parent, short_name) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level, "
            "parent = excluded.parent, short_name = excluded.short_name",
            [(r.code, r.name, int(r.level), r.parent, r.short_name) for r in regions],
        )
