"""SQL for the marketplace: postings, matches, numbered references, notices, contact requests.

Every change to a posting bumps its `changed` sequence, so a running service picks up changes
made elsewhere (a liaison approving from the CLI) by reading what changed since its last look.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from farmer_mailbox.clock import from_db, to_db
from farmer_mailbox.store.base import SqlBase

_NEXT_CHANGE = "(SELECT IFNULL(MAX(changed), 0) + 1 FROM postings)"
LIVE = ("pending", "open")


@dataclass(frozen=True, slots=True)
class NewPosting:
    """A posting to store, as understood from one message."""

    user_id: int
    side: str
    product: str
    category: str
    region_code: str
    text: str
    status: str
    created_at: datetime
    expires_at: datetime
    quantity: float | None = None
    unit: str | None = None
    base_quantity: float | None = None
    base_unit: str | None = None
    price: float | None = None
    price_max: float | None = None
    price_unit: str | None = None
    quality: tuple[str, ...] = ()
    inbound_id: int | None = None
    hold_reason: str = ""


@dataclass(frozen=True, slots=True)
class PostingRow:
    """A stored posting."""

    id: int
    user_id: int
    side: str
    product: str
    category: str
    region_code: str
    text: str
    status: str
    created_at: datetime
    expires_at: datetime
    quantity: float | None
    unit: str | None
    base_quantity: float | None
    base_unit: str | None
    price: float | None
    price_max: float | None
    price_unit: str | None
    quality: tuple[str, ...]
    inbound_id: int | None
    hold_reason: str
    reminded_at: datetime | None
    changed: int


@dataclass(frozen=True, slots=True)
class MatchRow:
    """A match between a buy and a sell posting."""

    id: int
    buy_id: int
    sell_id: int
    distance: int


@dataclass(frozen=True, slots=True)
class FoundMatch:
    """A counterparty posting found for a new posting, as the engine ranked it."""

    posting_id: int
    user_id: int
    product: str
    distance: int


@dataclass(frozen=True, slots=True)
class Notice:
    """A counterparty to tell about a new posting, with the number they will see for the match."""

    user_id: int
    phone: str
    posting_id: int
    n: int


@dataclass(frozen=True, slots=True)
class SettledMatches:
    """What storing a new posting's matches decided: the poster's numbers and who to tell."""

    poster_refs: list[tuple[int, int]]      # (n, other posting id), best first
    notices: list[Notice]


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """One side asked for the other's number (consent mode)."""

    id: int
    match_id: int
    requester_id: int
    owner_id: int
    status: str


_POSTING_COLUMNS = (
    "id, user_id, side, product, category, region_code, text, status, created_at, expires_at, quantity, unit, "
    "base_quantity, base_unit, price, price_max, price_unit, quality, inbound_id, hold_reason, reminded_at, changed"
)


def _posting(row: aiosqlite.Row) -> PostingRow:
    return PostingRow(
        id=row["id"], user_id=row["user_id"], side=row["side"], product=row["product"], category=row["category"],
        region_code=row["region_code"], text=row["text"], status=row["status"],
        created_at=from_db(row["created_at"]), expires_at=from_db(row["expires_at"]),
        quantity=row["quantity"], unit=row["unit"], base_quantity=row["base_quantity"], base_unit=row["base_unit"],
        price=row["price"], price_max=row["price_max"], price_unit=row["price_unit"],
        quality=tuple(json.loads(row["quality"])), inbound_id=row["inbound_id"], hold_reason=row["hold_reason"],
        reminded_at=from_db(row["reminded_at"]) if row["reminded_at"] else None, changed=row["changed"],
    )


def _match(row: aiosqlite.Row) -> MatchRow:
    return MatchRow(id=row["id"], buy_id=row["buy_id"], sell_id=row["sell_id"], distance=row["distance"])


def _request(row: aiosqlite.Row) -> ContactRequest:
    return ContactRequest(id=row["id"], match_id=row["match_id"], requester_id=row["requester_id"],
                          owner_id=row["owner_id"], status=row["status"])


class MarketReads(SqlBase):
    """Queries over postings and matches."""

    async def get_posting(self, posting_id: int) -> PostingRow | None:
        """One posting by id."""
        row = await self._one(f"SELECT {_POSTING_COLUMNS} FROM postings WHERE id = ?", (posting_id,))
        return _posting(row) if row else None

    async def postings_of(self, user_id: int, statuses: Sequence[str] = LIVE) -> list[PostingRow]:
        """A user's postings in the given states, newest first."""
        marks = ",".join("?" * len(statuses))
        rows = await self._all(
            f"SELECT {_POSTING_COLUMNS} FROM postings WHERE user_id = ? AND status IN ({marks}) ORDER BY id DESC",
            (user_id, *statuses))
        return [_posting(r) for r in rows]

    async def list_postings(self, status: str | None = None, region_low: str = "", region_high: str = "~",
                            limit: int = 100, after_id: int = 0) -> list[PostingRow]:
        """Postings for staff, oldest first, optionally by state and region code range."""
        sql = f"SELECT {_POSTING_COLUMNS} FROM postings WHERE id > ? AND region_code >= ? AND region_code < ?"
        params: list[Any] = [after_id, region_low, region_high]
        if status:
            sql += " AND status = ?"
            params.append(status)
        rows = await self._all(sql + " ORDER BY id LIMIT ?", (*params, limit))
        return [_posting(r) for r in rows]

    async def postings_changed_since(self, changed: int, limit: int = 5000) -> list[PostingRow]:
        """Postings changed after a sequence number, in change order (to keep an index in step)."""
        rows = await self._all(
            f"SELECT {_POSTING_COLUMNS} FROM postings WHERE changed > ? ORDER BY changed LIMIT ?", (changed, limit))
        return [_posting(r) for r in rows]

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

    async def get_match(self, match_id: int) -> MatchRow | None:
        """One match by id."""
        row = await self._one("SELECT id, buy_id, sell_id, distance FROM matches WHERE id = ?", (match_id,))
        return _match(row) if row else None

    async def match_by_ref(self, user_id: int, n: int) -> MatchRow | None:
        """The match a user was shown under number n."""
        row = await self._one(
            "SELECT m.id, m.buy_id, m.sell_id, m.distance FROM match_refs r JOIN matches m ON m.id = r.match_id "
            "WHERE r.user_id = ? AND r.n = ?", (user_id, n))
        return _match(row) if row else None

    async def matches_of_posting(self, posting_id: int, limit: int = 20) -> list[MatchRow]:
        """Matches of one posting, nearest first, then newest."""
        rows = await self._all(
            "SELECT id, buy_id, sell_id, distance FROM matches WHERE buy_id = ? OR sell_id = ? "
            "ORDER BY distance, id DESC LIMIT ?", (posting_id, posting_id, limit))
        return [_match(r) for r in rows]

    async def match_counts(self, posting_ids: Sequence[int]) -> dict[int, int]:
        """How many matches each posting has."""
        if not posting_ids:
            return {}
        marks = ",".join("?" * len(posting_ids))
        counts: dict[int, int] = dict.fromkeys(posting_ids, 0)
        for column in ("buy_id", "sell_id"):
            for row in await self._all(
                    f"SELECT {column}, COUNT(*) FROM matches WHERE {column} IN ({marks}) GROUP BY {column}",
                    tuple(posting_ids)):
                counts[row[0]] += row[1]
        return counts

    async def notices_sent(self, user_id: int, day: str) -> int:
        """Match notices sent to a user on a local day."""
        return int(await self._value(
            "SELECT COUNT(*) FROM match_notices WHERE user_id = ? AND day = ? AND sent = 1", (user_id, day)))

    async def folded_notices(self, day: str) -> list[tuple[int, int]]:
        """(user id, how many) of match notices folded by the cap on a local day."""
        rows = await self._all(
            "SELECT user_id, COUNT(*) FROM match_notices WHERE day = ? AND sent = 0 GROUP BY user_id", (day,))
        return [(r[0], r[1]) for r in rows]

    async def contact_request(self, match_id: int, requester_id: int) -> ContactRequest | None:
        """The contact request of a requester for a match, if any."""
        row = await self._one("SELECT * FROM contact_requests WHERE match_id = ? AND requester_id = ?",
                              (match_id, requester_id))
        return _request(row) if row else None

    async def shared_between(self, match_id: int) -> bool:
        """True when numbers were already exchanged for a match (either side asked and it was accepted)."""
        return bool(await self._value(
            "SELECT 1 FROM contact_requests WHERE match_id = ? AND status = 'accepted'", (match_id,)))

    async def pending_requests(self, owner_id: int) -> list[ContactRequest]:
        """Contact requests waiting for a user's answer, newest first."""
        rows = await self._all(
            "SELECT * FROM contact_requests WHERE owner_id = ? AND status = 'pending' ORDER BY id DESC", (owner_id,))
        return [_request(r) for r in rows]

    async def price_samples(self, product: str, side: str, low: str, high: str,
                            since: datetime) -> list[tuple[float, str]]:
        """(price, unit) of recent priced postings of a product in a region code range (not hidden)."""
        column = "price" if side == "sell" else "COALESCE(price_max, price)"
        rows = await self._all(
            f"SELECT {column}, price_unit FROM postings WHERE product = ? AND created_at >= ? AND side = ? "
            f"AND region_code >= ? AND region_code < ? AND status IN ('open', 'expired', 'cancelled') "
            f"AND {column} IS NOT NULL AND price_unit IS NOT NULL AND price_unit != '面议'",
            (product, to_db(since), side, low, high))
        return [(float(r[0]), str(r[1])) for r in rows]

    async def due_reminders(self, before: datetime, limit: int = 1000) -> list[PostingRow]:
        """Open postings expiring before a time that were not reminded yet."""
        rows = await self._all(
            f"SELECT {_POSTING_COLUMNS} FROM postings WHERE status = 'open' AND expires_at <= ? "
            "AND reminded_at IS NULL ORDER BY expires_at LIMIT ?", (to_db(before), limit))
        return [_posting(r) for r in rows]

    async def due_expiry(self, now: datetime, limit: int = 1000) -> list[PostingRow]:
        """Live postings whose time is up."""
        rows = await self._all(
            f"SELECT {_POSTING_COLUMNS} FROM postings WHERE status IN ('open', 'pending') AND expires_at <= ? "
            "ORDER BY expires_at LIMIT ?", (to_db(now), limit))
        return [_posting(r) for r in rows]


class MarketWrites(SqlBase):
    """Changes to postings and the conversation around matches."""

    async def insert_posting(self, new: NewPosting) -> int:
        """Store a posting; return its id (the number the farmer is told)."""
        return await self._insert(
            "INSERT INTO postings (user_id, side, product, category, quantity, unit, base_quantity, base_unit, "
            "price, price_max, price_unit, quality, region_code, text, inbound_id, status, hold_reason, created_at, "
            f"expires_at, changed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,{_NEXT_CHANGE})",
            (new.user_id, new.side, new.product, new.category, new.quantity, new.unit, new.base_quantity,
             new.base_unit, new.price, new.price_max, new.price_unit, json.dumps(list(new.quality), ensure_ascii=False),
             new.region_code, new.text, new.inbound_id, new.status, new.hold_reason, to_db(new.created_at),
             to_db(new.expires_at)))

    async def settle_matches(self, posting_id: int, side: str, poster_id: int, found: Sequence[FoundMatch],
                             listed: int, notify: int, day: str, cap: int, at: datetime) -> SettledMatches:
        """Store a new posting's matches in a few set-wise statements (not a dozen per match).

        The best `listed` get numbers for the poster. Of the best `notify`, each active
        counterparty not told about this poster and product before is told (within `cap` notices
        per day; beyond it the notice is recorded as folded, for the evening digest).
        """
        if not found:
            return SettledMatches([], [])
        stamp = to_db(at)
        pairs = [(posting_id, f.posting_id) if side == "buy" else (f.posting_id, posting_id) for f in found]
        await self._many("INSERT OR IGNORE INTO matches (buy_id, sell_id, distance, created_at) VALUES (?,?,?,?)",
                         [(b, s, f.distance, stamp) for (b, s), f in zip(pairs, found, strict=True)])
        own, other = ("buy_id", "sell_id") if side == "buy" else ("sell_id", "buy_id")
        ids = [f.posting_id for f in found]
        marks = ",".join("?" * len(ids))
        match_of = {r[1]: r[0] for r in await self._all(
            f"SELECT id, {other} FROM matches WHERE {own} = ? AND {other} IN ({marks})", (posting_id, *ids))}
        told = found[:notify]
        users = {r[0]: r[1] for r in await self._all(
            f"SELECT id, phone FROM users WHERE status = 'active' AND id IN ({','.join('?' * len(told))})",
            [f.user_id for f in told])} if told else {}
        notices = await self._new_notices(poster_id, [f for f in told if f.user_id in users], match_of, day, cap)
        wanted = [(poster_id, match_of[f.posting_id]) for f in found[:listed]]
        wanted += [(f.user_id, match_of[f.posting_id]) for f in notices]
        refs = await self._refs(wanted, stamp)
        return SettledMatches(
            poster_refs=[(refs[(poster_id, match_of[f.posting_id])], f.posting_id) for f in found[:listed]],
            notices=[Notice(f.user_id, users[f.user_id], f.posting_id, refs[(f.user_id, match_of[f.posting_id])])
                     for f in notices])

    async def _new_notices(self, poster_id: int, candidates: list[FoundMatch], match_of: dict[int, int], day: str,
                           cap: int) -> list[FoundMatch]:
        """Record a notice per new (user, poster, product); return those to send now (within the cap)."""
        if not candidates:
            return []
        marks = ",".join("?" * len(candidates))
        user_ids = [f.user_id for f in candidates]
        before = {(r[0], r[1]) for r in await self._all(
            f"SELECT user_id, product FROM match_notices WHERE other_user_id = ? AND user_id IN ({marks})",
            (poster_id, *user_ids))}
        sent = {r[0]: r[1] for r in await self._all(
            f"SELECT user_id, COUNT(*) FROM match_notices WHERE day = ? AND sent = 1 AND user_id IN ({marks}) "
            "GROUP BY user_id", (day, *user_ids))}
        rows, now = [], []
        for f in candidates:
            if (f.user_id, f.product) in before:
                continue  # this pair was told before
            before.add((f.user_id, f.product))
            within = sent.get(f.user_id, 0) < cap
            sent[f.user_id] = sent.get(f.user_id, 0) + int(within)
            rows.append((f.user_id, poster_id, f.product, match_of[f.posting_id], day, int(within)))
            if within:
                now.append(f)
        await self._many("INSERT OR IGNORE INTO match_notices (user_id, other_user_id, product, match_id, day, sent) "
                         "VALUES (?,?,?,?,?,?)", rows)
        return now

    async def _refs(self, wanted: list[tuple[int, int]], stamp: str) -> dict[tuple[int, int], int]:
        """The numbers users see for matches: existing ones, else the next free per user."""
        if not wanted:
            return {}
        users = sorted({u for u, _ in wanted})
        matches = sorted({m for _, m in wanted})
        refs = {(r[0], r[1]): r[2] for r in await self._all(
            f"SELECT user_id, match_id, n FROM match_refs WHERE user_id IN ({','.join('?' * len(users))}) "
            f"AND match_id IN ({','.join('?' * len(matches))})", (*users, *matches))}
        top = {r[0]: r[1] for r in await self._all(
            f"SELECT user_id, MAX(n) FROM match_refs WHERE user_id IN ({','.join('?' * len(users))}) "
            "GROUP BY user_id", users)}
        new = []
        for key in wanted:
            if key not in refs:
                top[key[0]] = refs[key] = top.get(key[0], 0) + 1
                new.append((key[0], refs[key], key[1], stamp))
        await self._many("INSERT INTO match_refs (user_id, n, match_id, created_at) VALUES (?,?,?,?)", new)
        return refs

    async def get_postings(self, posting_ids: Sequence[int]) -> dict[int, PostingRow]:
        """Several postings by id."""
        if not posting_ids:
            return {}
        rows = await self._all(f"SELECT {_POSTING_COLUMNS} FROM postings WHERE id IN "
                               f"({','.join('?' * len(posting_ids))})", tuple(posting_ids))
        return {r["id"]: _posting(r) for r in rows}

    async def set_posting_status(self, posting_id: int, status: str, at: datetime, reason: str = "") -> None:
        """Move a posting to a new state (open, cancelled, expired, hidden)."""
        closed = None if status in LIVE else to_db(at)
        await self._exec(
            f"UPDATE postings SET status = ?, closed_at = ?, hold_reason = CASE WHEN ? != '' THEN ? "
            f"ELSE hold_reason END, changed = {_NEXT_CHANGE} WHERE id = ?",
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
            f"UPDATE postings SET expires_at = ?, reminded_at = NULL, changed = {_NEXT_CHANGE} WHERE id = ?",
            (to_db(expires_at), posting_id))

    async def mark_reminded(self, posting_id: int, at: datetime) -> None:
        """Note that the expiry reminder went out."""
        await self._exec("UPDATE postings SET reminded_at = ? WHERE id = ?", (to_db(at), posting_id))

    async def insert_match(self, buy_id: int, sell_id: int, distance: int, at: datetime) -> int:
        """Store a match (once per pair of postings); return its id."""
        await self._exec("INSERT OR IGNORE INTO matches (buy_id, sell_id, distance, created_at) VALUES (?,?,?,?)",
                         (buy_id, sell_id, distance, to_db(at)))
        return int(await self._value("SELECT id FROM matches WHERE buy_id = ? AND sell_id = ?", (buy_id, sell_id)))

    async def ref_for(self, user_id: int, match_id: int, at: datetime) -> int:
        """The number a user sees for a match: the one given before, else the next free one."""
        found = await self._value("SELECT n FROM match_refs WHERE user_id = ? AND match_id = ?", (user_id, match_id))
        if found is not None:
            return int(found)
        n = int(await self._value("SELECT IFNULL(MAX(n), 0) + 1 FROM match_refs WHERE user_id = ?", (user_id,)))
        await self._exec("INSERT INTO match_refs (user_id, n, match_id, created_at) VALUES (?,?,?,?)",
                         (user_id, n, match_id, to_db(at)))
        return n

    async def record_notice(self, user_id: int, other_user_id: int, product: str, match_id: int, day: str,
                            sent: bool) -> bool:
        """Note a match notice for a pair; False when this pair was told before (nothing changes)."""
        changed = await self._exec(
            "INSERT OR IGNORE INTO match_notices (user_id, other_user_id, product, match_id, day, sent) "
            "VALUES (?,?,?,?,?,?)", (user_id, other_user_id, product, match_id, day, int(sent)))
        return changed > 0

    async def insert_contact_request(self, match_id: int, requester_id: int, owner_id: int, at: datetime,
                                     status: str = "pending") -> int:
        """Store a contact request (pending, or accepted at once in direct mode); return its id."""
        return await self._insert(
            "INSERT INTO contact_requests (match_id, requester_id, owner_id, status, created_at, answered_at) "
            "VALUES (?,?,?,?,?,?)",
            (match_id, requester_id, owner_id, status, to_db(at), None if status == "pending" else to_db(at)))

    async def answer_contact_request(self, request_id: int, accepted: bool, at: datetime) -> None:
        """Accept or decline a contact request."""
        await self._exec("UPDATE contact_requests SET status = ?, answered_at = ? WHERE id = ?",
                         ("accepted" if accepted else "declined", to_db(at), request_id))
