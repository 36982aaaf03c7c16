"""Storing a new posting's matches in a few set-wise statements (not a dozen per match).

Every match found (up to the engine's bound) is stored. The poster's best `listed` get numbers
for the reply. Each active counterparty not told about this pair of users and product before is
recorded once: told by SMS now when it is among the first `notify` and within its `cap` of
notices that day, else folded (reported in the next digest).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from farmer_mailbox.clock import to_db
from farmer_mailbox.store.market_rows import FoundMatch, Notice, SettledMatches, marks
from farmer_mailbox.store.sql_matches import MatchWrites
from farmer_mailbox.store.sql_notices import NoticeWrites


class SettleWrites(MatchWrites, NoticeWrites):
    """The one write that follows matching a new posting."""

    async def settle_matches(self, posting_id: int, side: str, poster_id: int, found: Sequence[FoundMatch],
                             listed: int, notify: int, day: str, cap: int, at: datetime,
                             more: bool = False, product: str | None = None) -> SettledMatches:
        """Store a new posting's matches (best first); number the poster's, record and pick the notices.

        `more`: the engine found more matches than `found` holds (the farmer is shown "N+");
        `product`: the posting's product when the caller has it (else it is read).
        """
        if more:
            await self._exec("UPDATE postings SET more_matches = 1 WHERE id = ?", (posting_id,))
        if not found:
            return SettledMatches([], [])
        stamp = to_db(at)
        match_of, fresh = await self._store_matches(posting_id, side, found, stamp)
        users = await self._active_phones(sorted({f.user_id for f in found}))
        seller_product = None if side == "buy" else product or await self._value(
            "SELECT product FROM postings WHERE id = ?", (posting_id,))
        notices = await self._new_notices(poster_id, [f for f in found if f.user_id in users], match_of, day, cap,
                                          notify, seller_product)
        wanted = [(poster_id, match_of[f.posting_id]) for f in found[:listed]]
        wanted += [(f.user_id, match_of[f.posting_id]) for f in notices]
        refs = await self._refs(wanted, stamp, fresh)
        return SettledMatches(
            poster_refs=[(refs[(poster_id, match_of[f.posting_id])], f.posting_id) for f in found[:listed]],
            notices=[Notice(f.user_id, users[f.user_id], f.posting_id, refs[(f.user_id, match_of[f.posting_id])])
                     for f in notices])

    async def _store_matches(self, posting_id: int, side: str, found: Sequence[FoundMatch],
                             stamp: str) -> tuple[dict[int, int], set[int]]:
        """Insert the matches (once per pair of postings); return match id by other posting id, and
        the ids of the matches inserted now (nobody has a number for those yet).

        One statement inserts them all and returns the new ids; only pairs stored before (a posting
        matched again) are looked up.
        """
        pairs = [(posting_id, f.posting_id) if side == "buy" else (f.posting_id, posting_id) for f in found]
        own, other = ("buy_id", "sell_id") if side == "buy" else ("sell_id", "buy_id")
        inserted = await self._all(
            f"INSERT OR IGNORE INTO matches (buy_id, sell_id, distance, created_at) VALUES "
            f"{','.join(['(?,?,?,?)'] * len(found))} RETURNING id, {other}",
            [v for (b, s), f in zip(pairs, found, strict=True) for v in (b, s, f.distance, stamp)])
        match_of = {r[1]: r[0] for r in inserted}
        fresh = set(match_of.values())
        ids = [f.posting_id for f in found if f.posting_id not in match_of]
        if ids:
            match_of.update((r[1], r[0]) for r in await self._all(
                f"SELECT id, {other} FROM matches WHERE {own} = ? AND {other} IN ({marks(ids)})", (posting_id, *ids)))
        return match_of, fresh

    async def _active_phones(self, user_ids: list[int]) -> dict[int, str]:
        """Phone by user id, for the users who may be told things (active)."""
        return {r[0]: r[1] for r in await self._all(
            f"SELECT id, phone FROM users WHERE status = 'active' AND id IN ({marks(user_ids)})", user_ids)}

    async def _new_notices(self, poster_id: int, candidates: list[FoundMatch], match_of: dict[int, int], day: str,
                           cap: int, notify: int, seller_product: str | None) -> list[FoundMatch]:
        """Record a notice per new (pair of users, seller's product); return those to send now."""
        if not candidates:
            return []
        user_ids = sorted({f.user_id for f in candidates})
        before = await self._told_before(poster_id, user_ids)
        sent = await self._sent_on(day, user_ids)
        rows: list[tuple[int, int, str, int, str, int]] = []
        now: list[FoundMatch] = []
        for f in candidates:
            key = (f.user_id, seller_product or f.product)
            if key in before:
                continue  # this pair was told before, one way or the other
            before.add(key)
            within = len(now) < notify and sent.get(f.user_id, 0) < cap
            if within:
                sent[f.user_id] = sent.get(f.user_id, 0) + 1
                now.append(f)
            rows.append((f.user_id, poster_id, key[1], match_of[f.posting_id], day, int(within)))
        await self._many("INSERT OR IGNORE INTO match_notices (user_id, other_user_id, product, match_id, day, sent) "
                         "VALUES (?,?,?,?,?,?)", rows)
        return now
