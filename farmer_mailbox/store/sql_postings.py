"""SQL for postings: storing them, their states and expiry, and the queries over them.

Every change to a posting bumps its `changed` sequence, so a running service picks up changes
made elsewhere (a liaison approving from the CLI) by reading what changed since its last look.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from farmer_mailbox.clock import to_db
from farmer_mailbox.store.base import SqlBase
from farmer_mailbox.store.market_rows import (
    LIVE,
    NEXT_CHANGE,
    POSTING_COLUMNS,
    NewPosting,
    PostingRow,
    marks,
    posting_of,
)


class PostingReads(SqlBase):
    """Queries over postings."""

    async def get_posting(self, posting_id: int) -> PostingRow | None:
        """One posting by id."""
        row = await self._one(f"SELECT {POSTING_COLUMNS} FROM postings WHERE id = ?", (posting_id,))
        return posting_of(row) if row else None

    async def get_postings(self, posting_ids: Sequence[int]) -> dict[int, PostingRow]:
        """Several postings by id."""
        if not posting_ids:
            return {}
        rows = await self._all(f"SELECT {POSTING_COLUMNS} FROM postings WHERE id IN ({marks(posting_ids)})",
                               tuple(posting_ids))
        return {r["id"]: posting_of(r) for r in rows}

    async def postings_of(self, user_id: int, statuses: Sequence[str] = LIVE) -> list[PostingRow]:
        """A user's postings in the given states, newest first."""
        rows = await self._all(
            f"SELECT {POSTING_COLUMNS} FROM postings WHERE user_id = ? AND status IN ({marks(statuses)}) "
            "ORDER BY id DESC", (user_id, *statuses))
        return [posting_of(r) for r in rows]

    async def list_postings(self, status: str | None = None, region_low: str = "", region_high: str = "~",
                            limit: int = 100, after_id: int = 0) -> list[PostingRow]:
        """Postings for staff, oldest first, optionally by state and region code range."""
        sql = f"SELECT {POSTING_COLUMNS} FROM postings WHERE id > ? AND region_code >= ? AND region_code < ?"
        params: list[Any] = [after_id, region_low, region_high]
        if status:
            sql += " AND status = ?"
            params.append(status)
        rows = await self._all(sql + " ORDER BY id LIMIT ?", (*params, limit))
        return [posting_of(r) for r in rows]

    async def postings_changed_since(self, changed: int, limit: int = 5000) -> list[PostingRow]:
        """Postings changed after a sequence number, in change order (to keep an index in step)."""
        rows = await self._all(
            f"SELECT {POSTING_COLUMNS} FROM postings WHERE changed > ? ORDER BY changed LIMIT ?", (changed, limit))
        return [posting_of(r) for r in rows]

    async def last_posting_change(self) -> int:
        """The highest change sequence number (0 when there are no postings)."""
        return int(await self._value("SELECT IFNULL(MAX(changed), 0) FROM postings"))

    async def open_posting_tuples(self, after_id: int = 0, limit: int = 50000) -> list[tuple[Any, ...]]:
        """Open postings as plain tuples for building the match index, by id."""
        rows = await self._all(
            "SELECT id, user_id, side, product, region_code, created_at, base_quantity, price, price_max, price_unit "
            "FROM postings WHERE status = 'open' AND id > ? ORDER BY id LIMIT ?", (after_id, limit))
        return [tuple(r) for r in rows]

    async def count_postings(self, status: str = "open") -> int:
        """How many postings are in a state."""
        return int(await self._value("SELECT COUNT(*) FROM postings WHERE status = ?", (status,)))

    async def price_samples(self, product: str, low: str, high: str,
                            since: datetime) -> list[tuple[str, str, float, str]]:
        """(side, region code, price, unit) of recent priced postings of a product in a region code
        range (not hidden), both sides in one scan of the covering index postings_prices: buyers'
        then sellers', each in region code order. A buyer's price is its maximum, else its price."""
        return await self._tuples(   # REAL columns: the prices come back as floats
            "SELECT side, region_code, CASE side WHEN 'sell' THEN price ELSE COALESCE(price_max, price) END AS p, "
            "price_unit FROM postings WHERE product = ? AND side IN ('sell', 'buy') AND region_code >= ? "
            "AND region_code < ? AND created_at >= ? AND status IN ('open', 'expired', 'cancelled') "
            "AND p IS NOT NULL AND price_unit IS NOT NULL AND price_unit != '面议' "
            "ORDER BY side, region_code, created_at",
            (product, low, high, to_db(since)))

    async def due_reminders(self, before: datetime, limit: int = 1000) -> list[PostingRow]:
        """Open postings expiring before a time that were not reminded yet."""
        rows = await self._all(
            f"SELECT {POSTING_COLUMNS} FROM postings WHERE status = 'open' AND expires_at <= ? "
            "AND reminded_at IS NULL ORDER BY expires_at LIMIT ?", (to_db(before), limit))
        return [posting_of(r) for r in rows]

    async def due_expiry(self, now: datetime, limit: int = 1000) -> list[PostingRow]:
        """Live postings whose time is up."""
        rows = await self._all(
            f"SELECT {POSTING_COLUMNS} FROM postings WHERE status IN ('open', 'pending') AND expires_at <= ? "
            "ORDER BY expires_at LIMIT ?", (to_db(now), limit))
        return [posting_of(r) for r in rows]


class PostingWrites(SqlBase):
    """Changes to postings."""

    async def insert_posting(self, new: NewPosting) -> int:
        """Store a posting; return its id (the number the farmer is told)."""
        return await self._insert(
            "INSERT INTO postings (user_id, side, product, category, quantity, unit, base_quantity, base_unit, "
            "price, price_max, price_unit, quality, region_code, text, inbound_id, status, hold_reason, created_at, "
            f"expires_at, changed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,{NEXT_CHANGE})",
            (new.user_id, new.side, new.product, new.category, new.quantity, new.unit, new.base_quantity,
             new.base_unit, new.price, new.price_max, new.price_unit, json.dumps(list(new.quality), ensure_ascii=False),
             new.region_code, new.text, new.inbound_id, new.status, new.hold_reason, to_db(new.created_at),
             to_db(new.expires_at)))

    async def set_posting_status(self, posting_id: int, status: str, at: datetime, reason: str = "") -> None:
        """Move a posting to a new state (open, cancelled, expired, hidden)."""
        closed = None if status in LIVE else to_db(at)
        await self._exec(
            f"UPDATE postings SET status = ?, closed_at = ?, hold_reason = CASE WHEN ? != '' THEN ? "
            f"ELSE hold_reason END, changed = {NEXT_CHANGE} WHERE id = ?",
            (status, closed, reason, reason, posting_id))

    async def close_user_postings(self, user_id: int, status: str, at: datetime) -> list[int]:
        """Close every live posting of a user (opt-out); return their ids."""
        ids = [int(r[0]) for r in await self._all(
            "SELECT id FROM postings WHERE user_id = ? AND status IN ('pending', 'open')", (user_id,))]
        for posting_id in ids:
            await self.set_posting_status(posting_id, status, at)
        return ids

    async def renew_posting(self, posting_id: int, expires_at: datetime) -> None:
        """Give a posting a new expiry; it may be reminded again."""
        await self._exec(
            f"UPDATE postings SET expires_at = ?, reminded_at = NULL, changed = {NEXT_CHANGE} WHERE id = ?",
            (to_db(expires_at), posting_id))

    async def mark_reminded(self, posting_id: int, at: datetime) -> None:
        """Note that the expiry reminder went out."""
        await self._exec("UPDATE postings SET reminded_at = ? WHERE id = ?", (to_db(at), posting_id))
