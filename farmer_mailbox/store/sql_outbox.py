"""SQL for the durable outbox: enqueue with unique keys, claim, record outcomes, receipts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import aiosqlite

from farmer_mailbox.clock import from_db, to_db
from farmer_mailbox.store.base import SqlBase
from farmer_mailbox.store.sql_record import NewRecord, RecordWrites

ACTIVE = ("queued", "errored")
FINAL = ("delivered", "failed", "expired", "cancelled")
_RANK = {"sent": 1, "delivered": 2, "failed": 2}
# Encoders built once (json.dumps with options builds one per call): params of every queued row,
# the record's detail of every sent one.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_DETAIL = json.JSONEncoder(ensure_ascii=False)


class NewOutbound(NamedTuple):
    """A message to enqueue; `idem_key` makes a second enqueue of the same message a no-op.

    A NamedTuple rather than a frozen dataclass: just as immutable, and built a third as fast
    (a frozen dataclass sets each of its 14 fields through object.__setattr__), which counts
    when a million rows are enqueued (scripts/bench_outbox.py).
    """

    idem_key: str
    purpose: str
    priority: int
    urgent: bool
    channel: str
    address: str
    user_id: int | None
    template_key: str
    params: Mapping[str, str]
    due_at: datetime
    expires_at: datetime
    created_at: datetime
    alert_id: int | None = None
    ref: str = ""


class Claimed(NamedTuple):
    """A row the dispatcher now owns (status `sending`) until it records an outcome."""

    id: int
    idem_key: str
    purpose: str
    priority: int
    urgent: bool
    channel: str
    address: str
    user_id: int | None
    template_key: str
    params: dict[str, str]
    attempts: int
    route_index: int
    expires_at: datetime
    user_status: str | None = None


class Outcome(NamedTuple):
    """What happened to a claimed row; `status` is the row's next state."""

    id: int
    status: str
    at: datetime
    gateway: str | None = None
    external_id: str | None = None
    segments: int | None = None
    error: str | None = None
    due_at: datetime | None = None
    route_index: int = 0
    text: str = ""
    channel: str = "sms"
    address: str = ""
    user_id: int | None = None
    refund_attempt: bool = False


class SegmentTotal(NamedTuple):
    """Sent messages of one local day, channel and purpose, and the SMS segments they cost."""

    day: str
    channel: str
    purpose: str
    messages: int
    segments: int


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox row as stored (for inspection, tests and the API)."""

    id: int
    idem_key: str
    purpose: str
    status: str
    address: str
    user_id: int | None
    template_key: str
    params: dict[str, str]
    attempts: int
    gateway: str | None
    external_id: str | None
    segments: int | None
    error: str | None
    due_at: datetime
    alert_id: int | None
    extra: dict[str, object] = field(default_factory=dict)


_ENQUEUE_CHUNK = 2000
_ENQUEUE_SQL = (
    "INSERT OR IGNORE INTO outbox (idem_key, purpose, priority, urgent, channel, address, user_id, "
    "template_key, params, due_at, expires_at, created_at, alert_id, ref) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _outbound_params(r: NewOutbound) -> tuple[object, ...]:
    return (r.idem_key, r.purpose, r.priority, int(r.urgent), r.channel, r.address, r.user_id,
            r.template_key, _params_json(r.params), to_db(r.due_at), to_db(r.expires_at),
            to_db(r.created_at), r.alert_id, r.ref)


def _params_json(params: Mapping[str, str]) -> str:
    return _COMPACT.encode(params) if params else "{}"


def _row(r: aiosqlite.Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"], idem_key=r["idem_key"], purpose=r["purpose"], status=r["status"], address=r["address"],
        user_id=r["user_id"], template_key=r["template_key"], params=json.loads(r["params"]),
        attempts=r["attempts"], gateway=r["gateway"], external_id=r["external_id"], segments=r["segments"],
        error=r["error"], due_at=from_db(r["due_at"]), alert_id=r["alert_id"],
    )


class OutboxReads(SqlBase):
    """Outbox queries."""

    async def outbox_row(self, outbox_id: int) -> OutboxRow | None:
        """One outbox row by id."""
        row = await self._one("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
        return _row(row) if row else None

    async def outbox_by_key(self, idem_key: str) -> OutboxRow | None:
        """One outbox row by idempotency key."""
        row = await self._one("SELECT * FROM outbox WHERE idem_key = ?", (idem_key,))
        return _row(row) if row else None

    async def outbox_for_address(self, address: str, limit: int = 100) -> list[OutboxRow]:
        """The latest rows to one recipient, oldest first."""
        rows = await self._all(
            "SELECT * FROM (SELECT * FROM outbox WHERE address = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
            (address, limit),
        )
        return [_row(r) for r in rows]

    async def outbox_depths(self) -> dict[str, int]:
        """How many rows wait (queued, errored) or are in flight (sending)."""
        waiting = await self._all(
            "SELECT status, COUNT(*) FROM outbox WHERE status IN ('queued', 'errored') GROUP BY status"
        )
        depths = {"queued": 0, "errored": 0} | {r[0]: r[1] for r in waiting}
        depths["sending"] = int(await self._value("SELECT COUNT(*) FROM outbox WHERE status = 'sending'"))
        return depths

    async def outbox_status_counts(self) -> dict[str, int]:
        """Rows per status (a full scan: diagnostics and tests, not health checks)."""
        return {r[0]: r[1] for r in await self._all("SELECT status, COUNT(*) FROM outbox GROUP BY status")}

    async def recipient_counts(self, addresses: Sequence[str], hour_ago: datetime,
                               day_start: datetime) -> dict[str, tuple[int, int]]:
        """Non-urgent bulk messages sent to each address in the last hour and since day start."""
        if not addresses:
            return {}
        marks = ",".join("?" * len(addresses))
        # One scan from the earlier of the two marks; each window counts only its own rows (for an
        # hour after local midnight the last hour reaches into yesterday, the day does not).
        rows = await self._all(
            f"SELECT address, SUM(sent_at >= ?), SUM(sent_at >= ?) FROM outbox WHERE address IN ({marks}) "
            "AND sent_at >= ? AND priority > 0 AND urgent = 0 GROUP BY address",
            (to_db(hour_ago), to_db(day_start), *addresses, to_db(min(day_start, hour_ago))),
        )
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    async def segment_totals(self, since: datetime, until: datetime, zone: ZoneInfo) -> list[SegmentTotal]:
        """Messages and billed SMS segments per local day (in `zone`), channel and purpose.

        Covers the local days from the one `since` falls in to the one before `until`'s end; each
        day's bounds are computed in `zone` (DST and half-hour offsets included) and matched in
        SQL, so one indexed range scan serves the whole period.
        """
        days = local_days(since, until, zone)
        if not days:
            return []
        values = ",".join("(?, ?, ?)" for _ in days)
        rows = await self._all(
            f"WITH days(day, start, stop) AS (VALUES {values}) "
            "SELECT days.day, o.channel, o.purpose, COUNT(*), COALESCE(SUM(o.segments), 0) "
            "FROM days JOIN outbox o ON o.sent_at >= days.start AND o.sent_at < days.stop "
            "WHERE o.sent_at >= ? AND o.sent_at < ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            [*(v for d in days for v in (d[0], to_db(d[1]), to_db(d[2]))),
             to_db(days[0][1]), to_db(days[-1][2])],
        )
        return [SegmentTotal(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def local_days(since: datetime, until: datetime, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """(ISO date, start, end) of each local day from `since`'s day up to the day holding `until`."""
    day = since.astimezone(zone).date()
    last = until.astimezone(zone).date()
    days = []
    while day <= last:
        start = datetime.combine(day, time(0), zone)
        following = day + timedelta(days=1)
        days.append((day.isoformat(), start.astimezone(UTC), datetime.combine(following, time(0), zone)
                     .astimezone(UTC)))
        day = following
    return days


class OutboxWrites(RecordWrites):
    """Outbox changes."""

    async def enqueue(self, rows: Sequence[NewOutbound]) -> int:
        """Insert messages; a row whose idempotency key exists is skipped. Return rows added.

        Large inputs go in chunks, the next chunk's parameters built while SQLite (in its own
        thread, without the GIL) writes the previous one.
        """
        before = self._conn.total_changes
        if self._sync is not None and len(rows) <= _ENQUEUE_CHUNK:
            self._sync.executemany(_ENQUEUE_SQL, [_outbound_params(r) for r in rows])
            return self._conn.total_changes - before
        writing: asyncio.Future[aiosqlite.Cursor] | None = None
        for start in range(0, len(rows), _ENQUEUE_CHUNK):
            params = [_outbound_params(r) for r in rows[start:start + _ENQUEUE_CHUNK]]
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(self._conn.executemany(_ENQUEUE_SQL, params))
        if writing is not None:
            await writing
        return self._conn.total_changes - before

    async def claim(self, now: datetime, lease_until: datetime, limit: int, quiet: bool) -> list[Claimed]:
        """Take up to `limit` due rows (only priority 0 in quiet hours) and mark them sending."""
        rows = await self._all(
            "UPDATE outbox SET status = 'sending', lease_until = ?, attempts = attempts + 1 "
            "WHERE id IN (SELECT id FROM outbox WHERE status IN ('queued', 'errored') AND due_at <= ? "
            "AND priority <= ? ORDER BY priority, due_at, id LIMIT ?) "
            "RETURNING id, idem_key, purpose, priority, urgent, channel, address, user_id, template_key, "
            "params, attempts, route_index, expires_at",
            (to_db(lease_until), to_db(now), 0 if quiet else 9, limit),
        )
        statuses = await self._user_statuses([r["user_id"] for r in rows if r["user_id"] is not None])
        claimed = [
            Claimed(r["id"], r["idem_key"], r["purpose"], r["priority"], bool(r["urgent"]), r["channel"],
                    r["address"], r["user_id"], r["template_key"], json.loads(r["params"]), r["attempts"],
                    r["route_index"], from_db(r["expires_at"]), statuses.get(r["user_id"]))
            for r in rows
        ]
        return sorted(claimed, key=lambda c: (c.priority, c.id))

    async def _user_statuses(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = await self._all(f"SELECT id, status FROM users WHERE id IN ({marks})", user_ids)
        return {r[0]: r[1] for r in rows}

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Write each claimed row's next state; sent and failed messages enter the record."""
        await self._many(
            "UPDATE outbox SET status = ?, lease_until = NULL, gateway = COALESCE(?, gateway), "
            "external_id = COALESCE(?, external_id), segments = COALESCE(?, segments), error = ?, "
            "due_at = COALESCE(?, due_at), route_index = ?, attempts = attempts - ?, "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
            "done_at = CASE WHEN ? IN ('failed', 'expired', 'cancelled') THEN ? ELSE done_at END "
            "WHERE id = ? AND status = 'sending'",
            [(o.status, o.gateway, o.external_id, o.segments, o.error,
              to_db(o.due_at) if o.due_at else None, o.route_index, int(o.refund_attempt),
              o.status, to_db(o.at), o.status, to_db(o.at), o.id) for o in outcomes],
        )
        await self.append_records([
            NewRecord(kind="outbound", channel=o.channel, at=o.at, user_id=o.user_id, address=o.address,
                      text=o.text, gateway=o.gateway or "", external_id=o.external_id or "",
                      detail=_DETAIL.encode({"outbox": o.id, "status": o.status, "segments": o.segments,
                                             "error": o.error}))
            for o in outcomes if o.status in ("sent", "failed")
        ])
        sent = [o for o in outcomes if o.status == "sent" and o.external_id]
        if sent and await self._value("SELECT EXISTS (SELECT 1 FROM early_receipts)"):
            await self._apply_early_receipts(sent)

    async def _apply_early_receipts(self, sent: Sequence[Outcome]) -> None:
        for o in sent:
            rows = await self._all(
                "SELECT status, detail, at FROM early_receipts WHERE gateway = ? AND external_id = ?",
                (o.gateway, o.external_id),
            )
            for r in rows:
                await self._update_by_receipt(o.gateway or "", o.external_id or "", r[0], r[1], from_db(r[2]))
            if rows:
                await self._exec("DELETE FROM early_receipts WHERE gateway = ? AND external_id = ?",
                                 (o.gateway, o.external_id))

    async def _update_by_receipt(self, gateway: str, external_id: str, status: str, detail: str,
                                 at: datetime) -> int:
        """Move a sent row forward only (sent < delivered | failed); return rows matched."""
        row = await self._one(
            "SELECT id, status FROM outbox WHERE gateway = ? AND external_id = ?", (gateway, external_id)
        )
        if row is None:
            return 0
        if _RANK.get(status, 0) > _RANK.get(row["status"], 0) and row["status"] in ("sent", "sending"):
            await self._exec(
                "UPDATE outbox SET status = ?, error = CASE WHEN ? = 'failed' THEN ? ELSE error END, "
                "done_at = ? WHERE id = ?",
                (status, status, detail, to_db(at), row["id"]),
            )
        return 1

    async def apply_receipt(self, gateway: str, external_id: str, status: str, detail: str,
                            at: datetime) -> bool:
        """Apply a delivery receipt, or keep it until the send result is recorded; True if matched."""
        if await self._update_by_receipt(gateway, external_id, status, detail, at):
            return True
        await self._exec(
            "INSERT INTO early_receipts (gateway, external_id, status, detail, at) VALUES (?, ?, ?, ?, ?)",
            (gateway, external_id, status, detail, to_db(at)),
        )
        return False

    async def prune_early_receipts(self, before: datetime) -> int:
        """Drop kept receipts older than `before` that never matched a sent row; return how many."""
        return await self._exec("DELETE FROM early_receipts WHERE at < ?", (to_db(before),))

    async def expire_due(self, now: datetime) -> int:
        """Expire waiting rows past their expiry; return how many."""
        return await self._exec(
            "UPDATE outbox SET status = 'expired', done_at = ?, error = 'not sent before expiry' "
            "WHERE status IN ('queued', 'errored') AND expires_at <= ?",
            (to_db(now), to_db(now)),
        )

    async def recover_sending(self, now: datetime, everything: bool = False) -> int:
        """Return `sending` rows whose lease ran out (or all, at start) to errored; how many."""
        where = "status = 'sending'" + ("" if everything else " AND lease_until <= ?")
        params: tuple[str, ...] = (to_db(now),) + (() if everything else (to_db(now),))
        return await self._exec(
            f"UPDATE outbox SET status = 'errored', lease_until = NULL, due_at = ?, "
            f"error = 'lease expired (crash or hang while sending)' WHERE {where}",
            params,
        )

    async def cancel_outbox(self, *, alert_id: int | None = None, user_id: int | None = None,
                            at: datetime, reason: str) -> int:
        """Cancel waiting rows of an alert or of a user; return how many."""
        column, value = ("alert_id", alert_id) if alert_id is not None else ("user_id", user_id)
        return await self._exec(
            f"UPDATE outbox SET status = 'cancelled', done_at = ?, error = ? "
            f"WHERE {column} = ? AND status IN ('queued', 'errored')",
            (to_db(at), reason, value),
        )
