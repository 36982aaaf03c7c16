"""SQL for alerts: the alert rows, fan-out into the outbox in SQL, audience counts, what each
county pays, the warning ledger, forecast opt-ins, and the notice to admins of a held alert.

Fan-out is one `INSERT OR IGNORE INTO outbox ... SELECT ... FROM users` per target subtree, never
a loop over users; the idempotency key `alert:<alert id>:<user id>` makes a second run add
nothing. Large audiences go in user-id chunks (each its own transaction, so replies and
receipts are not held up behind a province-wide alert); small ones in one statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from farmer_mailbox.alerts.model import ALL_ROLES, Alert, Kind, NewAlert, Progress, Severity, Status, Target
from farmer_mailbox.clock import from_db, to_db
from farmer_mailbox.models import CODE_DIGITS, Role
from farmer_mailbox.outbox_policy import priority_for
from farmer_mailbox.regions import level_of
from farmer_mailbox.store.base import SqlBase, subtree_bounds

_COMMITTED = ("scheduled", "sending", "sent", "cancelled", "expired")
_WAITING = ("queued", "errored", "sending")
_CHANGEABLE = frozenset({
    "status", "send_at", "expires_at", "params", "regions", "recipients", "cost_yuan", "confirmed_by",
    "fanout_cursor", "fanned_out_at", "done_at", "note", "segments",
})
_FANOUT_SQL = (
    "INSERT OR IGNORE INTO outbox (idem_key, purpose, priority, urgent, channel, address, user_id, template_key, "
    "params, due_at, expires_at, created_at, alert_id) "
    "SELECT 'alert:' || ? || ':' || u.id, 'alert', ?, ?, 'sms', u.phone, u.id, ?, ?, ?, ?, ?, ? "
    "FROM users u WHERE {where}"
)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _time(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _alert(r: aiosqlite.Row) -> Alert:
    target = Target(
        regions=tuple(json.loads(r["regions"])), roles=tuple(Role(x) for x in json.loads(r["roles"])),
        crops=tuple(json.loads(r["crops"])), products=tuple(json.loads(r["products"])),
        recipients_of=tuple(json.loads(r["recipients_of"])),
    )
    return Alert(
        id=r["id"], kind=Kind(r["kind"]), severity=Severity(r["severity"]), urgent=bool(r["urgent"]),
        template_key=r["template_key"], params=json.loads(r["params"]), target=target,
        county_code=r["county_code"], status=Status(r["status"]), send_at=from_db(r["send_at"]),
        expires_at=from_db(r["expires_at"]), segments=r["segments"], price=r["price"],
        recipients=r["recipients"], cost_yuan=r["cost_yuan"], source=r["source"], supersedes=r["supersedes"],
        fanout_cursor=r["fanout_cursor"], fanned_out_at=_time(r["fanned_out_at"]), created_by=r["created_by"],
        confirmed_by=r["confirmed_by"], note=r["note"], created_at=from_db(r["created_at"]),
        updated_at=from_db(r["updated_at"]), done_at=_time(r["done_at"]),
    )


def audience_where(target: Target, region: str, *, by_rowid: bool = False,
                   ids: tuple[int, int] | None = None) -> tuple[str, list[Any]]:
    """The WHERE clause (alias `u`) and parameters selecting a target's users in one region subtree.

    `by_rowid` keeps SQLite off the village index (a unary + on the column), so a user-id range
    scans the table in order; `ids` is that (after, upto] range.
    """
    low, high = subtree_bounds(region, CODE_DIGITS[level_of(region)])
    column = "+u.village_code" if by_rowid else "u.village_code"
    parts = [f"{column} >= ?", f"{column} < ?", "u.status = 'active'"]
    params: list[Any] = [low, high]
    if set(target.roles) != set(ALL_ROLES):
        parts.append(f"u.role IN ({','.join('?' * len(target.roles))})")
        params += [r.value for r in target.roles]
    if target.products:
        parts.append("EXISTS (SELECT 1 FROM user_interests i WHERE i.user_id = u.id "
                     f"AND i.product IN ({','.join('?' * len(target.products))}))")
        params += list(target.products)
    if target.recipients_of:   # by the unique key of each earlier copy (SMS or WeChat): one lookup per user
        keys = ", ".join("? || u.id" for _ in target.recipients_of) + ", " + ", ".join(
            "? || u.id || ':wechat'" for _ in target.recipients_of)
        parts.append(f"EXISTS (SELECT 1 FROM outbox o WHERE o.idem_key IN ({keys}) "
                     "AND o.status IN ('sent', 'delivered'))")
        params += [f"alert:{a}:" for a in target.recipients_of] * 2
    if ids is not None:
        parts.append("u.id > ? AND u.id <= ?")
        params += list(ids)
    return " AND ".join(parts), params


class AlertReads(SqlBase):
    """Alert queries."""

    async def get_alert(self, alert_id: int) -> Alert | None:
        """One alert by id."""
        row = await self._one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return _alert(row) if row else None

    async def alert_by_source(self, source: str) -> Alert | None:
        """The alert made from a source (an official warning, a pest rule for a county and season)."""
        row = await self._one("SELECT * FROM alerts WHERE source = ?", (source,))
        return _alert(row) if row else None

    async def list_alerts(self, county_code: str | None = None, status: str | None = None,
                          limit: int = 50, before_id: int | None = None) -> list[Alert]:
        """Latest alerts first, of one county (None: all) and one status (None: any)."""
        where, params = ["1"], []
        for clause, value in (("county_code = ?", county_code), ("status = ?", status), ("id < ?", before_id)):
            if value is not None:
                where.append(clause)
                params.append(value)
        rows = await self._all(
            f"SELECT * FROM alerts WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_alert(r) for r in rows]

    async def due_alert_ids(self, now: datetime) -> list[int]:
        """Alerts whose send time has come and whose fan-out is not finished, oldest first."""
        rows = await self._all(
            "SELECT id FROM alerts WHERE status IN ('scheduled', 'sending') AND send_at <= ? "
            "AND fanned_out_at IS NULL ORDER BY urgent DESC, send_at, id", (to_db(now),))
        return [r[0] for r in rows]

    async def fanned_out_alert_ids(self) -> list[int]:
        """Alerts still `sending` whose every copy is enqueued (candidates for `sent`)."""
        rows = await self._all("SELECT id FROM alerts WHERE status = 'sending' AND fanned_out_at IS NOT NULL")
        return [r[0] for r in rows]

    async def stale_alert_ids(self, now: datetime) -> list[int]:
        """Drafts, held and scheduled alerts past their expiry that never went out."""
        rows = await self._all(
            "SELECT id FROM alerts WHERE status IN ('draft', 'held', 'scheduled') AND expires_at <= ? "
            "AND fanout_cursor = 0 AND fanned_out_at IS NULL", (to_db(now),))
        return [r[0] for r in rows]

    async def alert_progress(self, alert_id: int) -> Progress:
        """SMS copies of an alert per outbox state (reads the alert index only; WeChat copies are free)."""
        rows = await self._all(
            "SELECT status, COUNT(*) FROM outbox WHERE alert_id = ? AND channel = 'sms' GROUP BY status", (alert_id,))
        return Progress({r[0]: int(r[1]) for r in rows})

    async def alerts_awaiting_staff(self) -> dict[str, int]:
        """How many alerts wait for a person: held for an admin's confirmation, drafts for an officer."""
        rows = await self._all("SELECT status, COUNT(*) FROM alerts WHERE status IN ('held', 'draft') GROUP BY status")
        counts = {str(r[0]): int(r[1]) for r in rows}
        return {"held": counts.get("held", 0), "drafts": counts.get("draft", 0)}

    async def alert_has_waiting(self, alert_id: int) -> bool:
        """True while a copy of the alert may still be sent."""
        marks = ",".join("?" * len(_WAITING))
        return bool(await self._value(
            f"SELECT EXISTS (SELECT 1 FROM outbox WHERE alert_id = ? AND status IN ({marks}))", (alert_id, *_WAITING)))

    async def audience_by_town(self, target: Target) -> dict[str, int]:
        """Recipients of a target per town (9-digit code), counted from the audience index."""
        counts: dict[str, int] = {}
        for region in target.regions:
            where, params = audience_where(target, region)
            rows = await self._all(
                f"SELECT substr(u.village_code, 1, 9), COUNT(*) FROM users u WHERE {where} GROUP BY 1", params)
            for town, count in rows:
                counts[town] = counts.get(town, 0) + int(count)
        return counts

    async def county_spent(self, county_code: str, since: datetime, until: datetime) -> float:
        """Yuan a county's share of alerts committed for sends in [since, until) (held and drafts
        excluded); an alert reaching several counties counts against each by its share."""
        marks = ",".join("?" * len(_COMMITTED))
        value = await self._value(
            "SELECT COALESCE(SUM(a.cost_yuan * c.share), 0) FROM alert_charges c JOIN alerts a ON a.id = c.alert_id "
            f"WHERE c.county_code = ? AND a.send_at >= ? AND a.send_at < ? AND a.status IN ({marks})",
            (county_code, to_db(since), to_db(until), *_COMMITTED))
        return float(value)

    async def alert_charges(self, alert_id: int) -> dict[str, int]:
        """The counties an alert is charged to, with its recipients in each."""
        rows = await self._all("SELECT county_code, recipients FROM alert_charges WHERE alert_id = ? ORDER BY 1",
                               (alert_id,))
        return {r[0]: int(r[1]) for r in rows}

    async def officer_counties(self) -> list[str]:
        """Counties (12-digit codes) with at least one active officer: the bureaus that get drafts."""
        rows = await self._all(
            "SELECT DISTINCT county_code FROM users WHERE role = 'officer' AND status = 'active' "
            "AND county_code IS NOT NULL ORDER BY 1")
        return [r[0] for r in rows]

    async def max_user_id(self) -> int:
        """The highest user id (the end of a chunked fan-out)."""
        return int(await self._value("SELECT COALESCE(MAX(id), 0) FROM users"))

    async def official_warning(self, source: str, warning_id: str) -> dict[str, Any] | None:
        """The ledger entry of an official warning already processed, if any."""
        row = await self._one(
            "SELECT status, alert_id, regions, received_at FROM official_warnings WHERE source = ? "
            "AND warning_id = ?", (source, warning_id))
        if row is None:
            return None
        return {"status": row["status"], "alert_id": row["alert_id"], "regions": json.loads(row["regions"]),
                "received_at": from_db(row["received_at"])}

    async def forecast_optin(self, user_id: int) -> bool:
        """True when a user asked for the daily forecast."""
        return bool(await self._value("SELECT EXISTS (SELECT 1 FROM forecast_optin WHERE user_id = ?)",
                                      (user_id,)))

    async def forecast_towns(self) -> list[str]:
        """Towns (9-digit codes) with at least one active user who asked for the daily forecast."""
        rows = await self._all(
            "SELECT DISTINCT substr(u.village_code, 1, 9) FROM forecast_optin f JOIN users u ON u.id = f.user_id "
            "WHERE u.status = 'active' ORDER BY 1")
        return [r[0] for r in rows]


class AlertWrites(SqlBase):
    """Alert changes."""

    async def insert_alert(self, new: NewAlert) -> int:
        """Insert an alert; return its id."""
        t = new.target
        return await self._insert(
            "INSERT INTO alerts (kind, severity, urgent, template_key, params, regions, crops, products, roles, "
            "recipients_of, county_code, status, send_at, expires_at, segments, price, recipients, cost_yuan, source, "
            "supersedes, created_by, confirmed_by, note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new.kind.value, new.severity.value, int(new.urgent), new.template_key, _json(dict(new.params)),
             _json(list(t.regions)), _json(list(t.crops)), _json(list(t.products)),
             _json([r.value for r in t.roles]), _json(list(t.recipients_of)), new.county_code, new.status.value,
             to_db(new.send_at), to_db(new.expires_at), new.segments, new.price, new.recipients, new.cost_yuan,
             new.source, new.supersedes, new.created_by, new.confirmed_by, new.note, to_db(new.created_at),
             to_db(new.created_at)),
        )

    async def update_alert(self, alert_id: int, at: datetime, **changes: Any) -> None:
        """Change some columns of an alert (datetimes, params and region lists are encoded here)."""
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ValueError(f"cannot update alert columns {sorted(unknown)}")
        values = [_encode(v) for v in changes.values()]
        assignments = ", ".join(f"{k} = ?" for k in changes)
        await self._exec(f"UPDATE alerts SET {assignments}, updated_at = ? WHERE id = ?",
                         (*values, to_db(at), alert_id))

    async def fan_out(self, alert: Alert, now: datetime, ids: tuple[int, int] | None = None) -> int:
        """Enqueue one copy of the alert per targeted user (within `ids`, if given); return rows added."""
        due = max(alert.send_at, now)
        head = (alert.id, priority_for("alert", alert.urgent), int(alert.urgent), alert.template_key,
                _json(dict(alert.params)), to_db(due), to_db(alert.expires_at), to_db(now), alert.id)
        added = 0
        for region in alert.target.regions:
            where, params = audience_where(alert.target, region, by_rowid=ids is not None, ids=ids)
            added += await self._exec_in_thread(_FANOUT_SQL.format(where=where), (*head, *params))
        return added

    async def set_alert_charges(self, alert_id: int, charges: Mapping[str, int]) -> None:
        """Charge an alert to these counties by their recipients (replacing earlier charges)."""
        await self._exec("DELETE FROM alert_charges WHERE alert_id = ?", (alert_id,))
        total = sum(charges.values())
        if total > 0:
            await self._many(
                "INSERT INTO alert_charges (alert_id, county_code, recipients, share) VALUES (?, ?, ?, ?)",
                [(alert_id, county, n, n / total) for county, n in charges.items() if n > 0])

    async def notify_admins(self, alert_id: int, template_key: str, params: Mapping[str, str], urgent: bool,
                            now: datetime, expires_at: datetime) -> int:
        """Enqueue one notice about an alert to every active admin, once each (in SQL); rows added."""
        return await self._exec(
            "INSERT OR IGNORE INTO outbox (idem_key, purpose, priority, urgent, channel, address, user_id, "
            "template_key, params, due_at, expires_at, created_at, ref) "
            "SELECT ? || ':' || u.id, 'alert', ?, ?, 'sms', u.phone, u.id, ?, ?, ?, ?, ?, ? "
            "FROM users u WHERE u.role = 'admin' AND u.status = 'active'",
            (f"{template_key}:{alert_id}", priority_for("alert", urgent), int(urgent), template_key,
             _json(dict(params)), to_db(now), to_db(expires_at), to_db(now), f"alert:{alert_id}"))

    async def cancel_notices(self, alert_id: int, template_key: str, at: datetime) -> int:
        """Cancel the notices about an alert not yet sent to admins (it was confirmed or cancelled)."""
        low = f"{template_key}:{alert_id}:"     # their keys: alert_held:<alert id>:<user id>
        return await self._exec(
            "UPDATE outbox SET status = 'cancelled', done_at = ?, error = 'no longer held' "
            "WHERE idem_key >= ? AND idem_key < ? AND status IN ('queued', 'errored')",
            (to_db(at), low, low[:-1] + ";"))

    async def count_alert_rows(self, alert_id: int, statuses: Sequence[str]) -> int:
        """SMS copies of an alert in the given outbox states (what is billed)."""
        marks = ",".join("?" * len(statuses))
        return int(await self._value(
            f"SELECT COUNT(*) FROM outbox WHERE alert_id = ? AND status IN ({marks}) AND channel = 'sms'",
            (alert_id, *statuses)))

    async def retext_waiting(self, alert_id: int, params: Mapping[str, str], expires_at: datetime) -> int:
        """Give copies not yet sent new parameters and expiry (a warning continued); return how many."""
        return await self._exec(
            "UPDATE outbox SET params = ?, expires_at = ? WHERE alert_id = ? AND status IN ('queued', 'errored')",
            (_json(dict(params)), to_db(expires_at), alert_id))

    async def record_warning(self, source: str, warning_id: str, status: str, alert_id: int | None,
                             regions: Sequence[str], at: datetime, payload: Mapping[str, Any]) -> bool:
        """Enter an official warning in the ledger; False when it was already there."""
        return bool(await self._exec(
            "INSERT OR IGNORE INTO official_warnings (source, warning_id, status, alert_id, regions, received_at, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (source, warning_id, status, alert_id, _json(list(regions)), to_db(at), _json(dict(payload)))))

    async def update_warning_regions(self, source: str, warning_id: str, regions: Sequence[str]) -> None:
        """Widen the regions a ledgered warning was found for."""
        await self._exec("UPDATE official_warnings SET regions = ? WHERE source = ? AND warning_id = ?",
                         (_json(list(regions)), source, warning_id))

    async def set_forecast_optin(self, user_id: int, on: bool, at: datetime) -> bool:
        """Turn a user's daily forecast on or off; True when that changed something."""
        if on:
            return bool(await self._exec(
                "INSERT OR IGNORE INTO forecast_optin (user_id, since) VALUES (?, ?)", (user_id, to_db(at))))
        return bool(await self._exec("DELETE FROM forecast_optin WHERE user_id = ?", (user_id,)))

    async def enqueue_forecast(self, town: str, params: Mapping[str, str], day: str, due: datetime,
                               expires: datetime, now: datetime) -> int:
        """Enqueue one town's forecast to its opted-in active users, once per user and day (in SQL)."""
        low, high = subtree_bounds(town.ljust(12, "0"), CODE_DIGITS[level_of(town.ljust(12, "0"))])
        return await self._exec_in_thread(
            "INSERT OR IGNORE INTO outbox (idem_key, purpose, priority, urgent, channel, address, user_id, "
            "template_key, params, due_at, expires_at, created_at) "
            "SELECT 'forecast:' || ? || ':' || u.id, 'alert', ?, 0, 'sms', u.phone, u.id, 'forecast', ?, ?, ?, ? "
            "FROM forecast_optin f JOIN users u ON u.id = f.user_id "
            "WHERE u.village_code >= ? AND u.village_code < ? AND u.status = 'active'",
            (day, priority_for("alert", False), _json(dict(params)), to_db(due), to_db(expires), to_db(now),
             low, high))

    async def add_interests(self, user_id: int, products: Sequence[str]) -> int:
        """Follow more products (existing ones kept); return how many were new."""
        before = self._conn.total_changes
        await self._many("INSERT OR IGNORE INTO user_interests (user_id, product) VALUES (?, ?)",
                         [(user_id, p) for p in products])
        return self._conn.total_changes - before


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db(value)
    if isinstance(value, Status):
        return value.value
    if isinstance(value, Mapping):
        return _json(dict(value))
    if isinstance(value, tuple | list):
        return _json(list(value))
    return value
