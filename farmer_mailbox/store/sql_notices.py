"""SQL for match notices: who was told about whom, the daily caps, and the digests of folded ones.

One notice per pair of users and product, ever, in either direction: once a buyer and a seller
of 葡萄苗 were put in touch, neither is told about the other's 葡萄苗 again (the product is the
seller's). A notice is `sent` (an SMS now) or folded (sent = 0: over the per-posting or daily
cap); a folded notice is reported once, in the digest of `digest_day`.
"""

from __future__ import annotations

from collections.abc import Sequence

from farmer_mailbox.store.base import SqlBase
from farmer_mailbox.store.market_rows import marks

_CHUNK = 500   # user ids per IN list


class NoticeReads(SqlBase):
    """Queries over match notices."""

    async def notices_sent(self, user_id: int, day: str) -> int:
        """Match notices sent to a user on a local day."""
        return int(await self._value(
            "SELECT COUNT(*) FROM match_notices WHERE user_id = ? AND day = ? AND sent = 1", (user_id, day)))

    async def folded_notices(self, day: str) -> list[tuple[int, int]]:
        """(user id, how many) of match notices folded by the caps on a local day (a scan: tests, diagnostics)."""
        rows = await self._all(
            "SELECT user_id, COUNT(*) FROM match_notices WHERE day = ? AND sent = 0 GROUP BY user_id", (day,))
        return [(r[0], r[1]) for r in rows]

    async def folds_due(self, digest_day: str) -> list[tuple[int, int]]:
        """(user id, folded notices not yet reported) for users due a digest on `digest_day`.

        Due: some unreported fold is from that day or before, and the user had no digest that day
        yet (folds after a user's digest wait for the next one).
        """
        rows = await self._all(
            "SELECT user_id, COUNT(*) FROM match_notices WHERE sent = 0 AND digest_day IS NULL AND user_id IN ("
            "SELECT user_id FROM match_notices WHERE sent = 0 AND digest_day IS NULL AND day <= ? "
            "EXCEPT SELECT user_id FROM match_notices WHERE digest_day = ?) GROUP BY user_id ORDER BY user_id",
            (digest_day, digest_day))
        return [(r[0], r[1]) for r in rows]

    async def _told_before(self, user_id: int, others: Sequence[int]) -> set[tuple[int, str]]:
        """(other user, product) of every notice between a user and any of `others`, either direction."""
        if not others:
            return set()
        found: set[tuple[int, str]] = set()
        for start in range(0, len(others), _CHUNK):
            chunk = list(others[start:start + _CHUNK])
            found.update((r[0], r[1]) for r in await self._all(
                f"SELECT user_id, product FROM match_notices WHERE other_user_id = ? AND user_id IN ({marks(chunk)}) "
                f"UNION SELECT other_user_id, product FROM match_notices WHERE user_id = ? "
                f"AND other_user_id IN ({marks(chunk)})", (user_id, *chunk, user_id, *chunk)))
        return found

    async def _sent_on(self, day: str, users: Sequence[int]) -> dict[int, int]:
        """Notices sent on a day to each of `users` (those with none are left out)."""
        sent: dict[int, int] = {}
        for start in range(0, len(users), _CHUNK):
            chunk = list(users[start:start + _CHUNK])
            sent.update((r[0], r[1]) for r in await self._all(
                f"SELECT user_id, COUNT(*) FROM match_notices WHERE day = ? AND sent = 1 "
                f"AND user_id IN ({marks(chunk)}) GROUP BY user_id", (day, *chunk)))
        return sent


class NoticeWrites(NoticeReads):
    """Recording notices and their digests."""

    async def record_notice(self, user_id: int, other_user_id: int, product: str, match_id: int, day: str,
                            sent: bool) -> bool:
        """Note a match notice for a pair; False when this pair was told before, either way (nothing changes)."""
        if await self._told_before(user_id, [other_user_id]) & {(other_user_id, product)}:
            return False
        changed = await self._exec(
            "INSERT OR IGNORE INTO match_notices (user_id, other_user_id, product, match_id, day, sent) "
            "VALUES (?,?,?,?,?,?)", (user_id, other_user_id, product, match_id, day, int(sent)))
        return changed > 0

    async def digest_folds(self, digest_day: str) -> list[tuple[int, int]]:
        """Mark the folds of every user due a digest as reported on `digest_day`; return (user, count)."""
        due = await self.folds_due(digest_day)
        users = [u for u, _ in due]
        for start in range(0, len(users), _CHUNK):
            chunk = users[start:start + _CHUNK]
            await self._exec(
                f"UPDATE match_notices SET digest_day = ? WHERE sent = 0 AND digest_day IS NULL "
                f"AND user_id IN ({marks(chunk)})", (digest_day, *chunk))
        return due
