"""SQL for matches and the numbers users see for them (LX n, HF n, Y n, WD n).

A match pairs one buy and one sell posting, once. Each user sees a match under a number of
their own ("序号"): numbers grow per user and are never reused, so "LX 3" keeps meaning the same.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import datetime

from farmer_mailbox.clock import to_db
from farmer_mailbox.store.base import SqlBase
from farmer_mailbox.store.market_rows import POSTING_COLUMNS, MatchRow, PostingRow, marks, match_of, posting_of

_OTHER_POSTING = ", ".join(f"p.{c.strip()}" for c in POSTING_COLUMNS.split(","))


class MatchReads(SqlBase):
    """Queries over matches and their numbers."""

    async def get_match(self, match_id: int) -> MatchRow | None:
        """One match by id."""
        row = await self._one("SELECT id, buy_id, sell_id, distance FROM matches WHERE id = ?", (match_id,))
        return match_of(row) if row else None

    async def match_by_ref(self, user_id: int, n: int) -> MatchRow | None:
        """The match a user was shown under number n."""
        row = await self._one(
            "SELECT m.id, m.buy_id, m.sell_id, m.distance FROM match_refs r JOIN matches m ON m.id = r.match_id "
            "WHERE r.user_id = ? AND r.n = ?", (user_id, n))
        return match_of(row) if row else None

    async def matches_of_posting(self, posting_id: int, limit: int = 20) -> list[MatchRow]:
        """Matches of one posting, nearest first (then in the order they were found)."""
        rows = await self._all(
            "SELECT id, buy_id, sell_id, distance FROM matches WHERE buy_id = ? OR sell_id = ? "
            "ORDER BY distance, id LIMIT ?", (posting_id, posting_id, limit))
        return [match_of(r) for r in rows]

    async def open_partners(self, posting_id: int, side: str, limit: int = 500) -> list[tuple[MatchRow, PostingRow]]:
        """The matches of a posting whose other posting is open, with that posting; nearest first."""
        own, other = ("buy_id", "sell_id") if side == "buy" else ("sell_id", "buy_id")
        rows = await self._all(
            f"SELECT m.id AS match_id, m.buy_id, m.sell_id, m.distance, {_OTHER_POSTING} FROM matches m "
            f"JOIN postings p ON p.id = m.{other} WHERE m.{own} = ? AND p.status = 'open' "
            "ORDER BY m.distance, m.id LIMIT ?", (posting_id, limit))
        return [(MatchRow(r["match_id"], r["buy_id"], r["sell_id"], r["distance"]), posting_of(r)) for r in rows]

    async def match_counts(self, posting_ids: Sequence[int]) -> dict[int, int]:
        """How many matches each posting has whose other posting is still open (what WD n can list)."""
        if not posting_ids:
            return {}
        counts: dict[int, int] = dict.fromkeys(posting_ids, 0)
        for own, other in (("buy_id", "sell_id"), ("sell_id", "buy_id")):
            for row in await self._all(
                    f"SELECT m.{own}, COUNT(*) FROM matches m JOIN postings p ON p.id = m.{other} "
                    f"WHERE m.{own} IN ({marks(posting_ids)}) AND p.status = 'open' GROUP BY m.{own}",
                    tuple(posting_ids)):
                counts[row[0]] += row[1]
        return counts


class MatchWrites(SqlBase):
    """Storing matches and numbering them for users."""

    async def insert_match(self, buy_id: int, sell_id: int, distance: int, at: datetime) -> int:
        """Store a match (once per pair of postings); return its id."""
        await self._exec("INSERT OR IGNORE INTO matches (buy_id, sell_id, distance, created_at) VALUES (?,?,?,?)",
                         (buy_id, sell_id, distance, to_db(at)))
        return int(await self._value("SELECT id FROM matches WHERE buy_id = ? AND sell_id = ?", (buy_id, sell_id)))

    async def ref_for(self, user_id: int, match_id: int, at: datetime) -> int:
        """The number a user sees for a match: the one given before, else the next free one."""
        return (await self._refs([(user_id, match_id)], to_db(at)))[(user_id, match_id)]

    async def _refs(self, wanted: list[tuple[int, int]], stamp: str,
                    fresh: Set[int] = frozenset()) -> dict[tuple[int, int], int]:
        """The numbers users see for matches: existing ones, else the next free per user, in `wanted` order.

        `fresh`: matches stored just now, which nobody has a number for (not looked up).
        """
        if not wanted:
            return {}
        users = sorted({u for u, _ in wanted})
        matches = sorted({m for _, m in wanted if m not in fresh})
        refs = {(r[0], r[1]): r[2] for r in await self._all(
            f"SELECT user_id, match_id, n FROM match_refs WHERE user_id IN ({marks(users)}) "
            f"AND match_id IN ({marks(matches)})", (*users, *matches))} if matches else {}
        top = {r[0]: r[1] for r in await self._all(
            f"SELECT user_id, MAX(n) FROM match_refs WHERE user_id IN ({marks(users)}) GROUP BY user_id", users)}
        new = []
        for key in wanted:
            if key not in refs:
                top[key[0]] = refs[key] = top.get(key[0], 0) + 1
                new.append((key[0], refs[key], key[1], stamp))
        await self._many("INSERT INTO match_refs (user_id, n, match_id, created_at) VALUES (?,?,?,?)", new)
        return refs

    async def refs_for(self, user_id: int, match_ids: Sequence[int], at: datetime) -> dict[int, int]:
        """The numbers a user sees for several matches, new ones given in the order of `match_ids`."""
        refs = await self._refs([(user_id, m) for m in match_ids], to_db(at))
        return {m: n for (_, m), n in refs.items()}
