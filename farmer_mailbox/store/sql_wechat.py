"""SQL for the WeChat channel: openid bindings, binding codes, passive replies, SMS fallback, and the
WeChat copies of urgent alerts.

Replies to an inbound message carry the idempotency key `in:<inbound id>:<n>` (conversation.Reply);
the passive-reply queries select them by key range on the unique index, never by LIKE.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from farmer_mailbox.alerts.model import Alert
from farmer_mailbox.clock import from_db, to_db
from farmer_mailbox.models import User
from farmer_mailbox.outbox_policy import priority_for
from farmer_mailbox.store.sql_alerts import audience_where
from farmer_mailbox.store.sql_outbox import Claimed
from farmer_mailbox.store.sql_users import UserReads

_WAITING = "('queued', 'errored')"
_FANOUT_SQL = (
    "INSERT OR IGNORE INTO outbox (idem_key, purpose, priority, urgent, channel, address, user_id, template_key, "
    "params, due_at, expires_at, created_at, alert_id) "
    "SELECT 'alert:' || ? || ':' || u.id || ':wechat', 'alert', ?, 1, 'wechat', b.openid, u.id, ?, ?, ?, ?, ?, ? "
    "FROM users u JOIN wechat_bindings b ON b.user_id = u.id "
    "WHERE b.subscribed = 1 AND (? OR b.last_inbound_at > ?) AND {where}"
)


@dataclass(frozen=True, slots=True)
class Binding:
    """An openid linked to a real-name user."""

    openid: str
    user_id: int
    subscribed: bool
    last_inbound_at: datetime | None
    bound_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    """How a user can be reached: the phone always, an openid when bound."""

    user_id: int
    phone: str
    openid: str | None
    subscribed: bool
    last_inbound_at: datetime | None


@dataclass(frozen=True, slots=True)
class CodeState:
    """An openid's binding attempt: the pending code (hash), its expiry, wrong tries, the lock."""

    openid: str
    user_id: int | None
    code_hash: str
    outbox_key: str
    sent_at: datetime | None
    expires_at: datetime | None
    failures: int
    locked_until: datetime | None


def _time(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def reply_key_range(inbound_id: int) -> tuple[str, str]:
    """[low, high) bounds of the idempotency keys of replies to one inbound message."""
    return f"in:{inbound_id}:", f"in:{inbound_id};"   # ';' sorts right after ':'


def _binding(r: aiosqlite.Row) -> Binding:
    return Binding(r["openid"], r["user_id"], bool(r["subscribed"]), _time(r["last_inbound_at"]),
                   from_db(r["bound_at"]))


class WechatReads(UserReads):
    """WeChat queries."""

    async def user_by_openid(self, openid: str) -> User | None:
        """The real-name user an openid is bound to (subscribed or not)."""
        return await self._user_where("id = (SELECT user_id FROM wechat_bindings WHERE openid = ?)", (openid,))

    async def binding_of_openid(self, openid: str) -> Binding | None:
        """The binding of an openid, if any."""
        row = await self._one("SELECT * FROM wechat_bindings WHERE openid = ?", (openid,))
        return _binding(row) if row else None

    async def binding_of_user(self, user_id: int) -> Binding | None:
        """The binding of a user, if any."""
        row = await self._one("SELECT * FROM wechat_bindings WHERE user_id = ?", (user_id,))
        return _binding(row) if row else None

    async def wechat_contacts(self, user_ids: Sequence[int]) -> dict[int, Contact]:
        """Phone and (when bound) openid, subscription and last WeChat interaction of users."""
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = await self._all(
            "SELECT u.id, u.phone, b.openid, b.subscribed, b.last_inbound_at FROM users u "
            f"LEFT JOIN wechat_bindings b ON b.user_id = u.id WHERE u.id IN ({marks})", list(user_ids))
        return {r[0]: Contact(r[0], r[1], r[2], bool(r[3]), _time(r[4])) for r in rows}

    async def code_state(self, openid: str) -> CodeState | None:
        """An openid's pending code and lock, if it ever asked for a code."""
        r = await self._one("SELECT * FROM wechat_codes WHERE openid = ?", (openid,))
        if r is None:
            return None
        return CodeState(r["openid"], r["user_id"], r["code_hash"], r["outbox_key"], _time(r["sent_at"]),
                         _time(r["expires_at"]), r["failures"], _time(r["locked_until"]))

    async def code_requests_since(self, key_hash: str, since: datetime) -> list[datetime]:
        """When codes were asked for this phone or by this openid (keyed hash) since `since`, oldest first."""
        rows = await self._all("SELECT at FROM bind_code_requests WHERE key_hash = ? AND at >= ? ORDER BY at",
                               (key_hash, to_db(since)))
        return [from_db(r[0]) for r in rows]

    async def inbound_id(self, gateway: str, external_id: str, sender: str) -> int | None:
        """The id of an inbound message already received from `sender` (a provider's retry), if any."""
        value = await self._value("SELECT id FROM inbound WHERE gateway = ? AND external_id = ? AND sender = ?",
                                  (gateway, external_id, sender))
        return int(value) if value is not None else None

    async def passive_served(self, gateway: str, inbound_id: int) -> list[tuple[str, dict[str, str]]]:
        """(template, params) of the replies to an inbound message already given as passive replies."""
        rows = await self._all(
            "SELECT template_key, params FROM outbox WHERE gateway = ? AND external_id = ? ORDER BY id",
            (gateway, f"passive:{inbound_id}"))
        return [(r[0], json.loads(r[1])) for r in rows]


class WechatWrites(WechatReads):
    """WeChat changes."""

    async def bind_openid(self, openid: str, user_id: int, at: datetime, last_inbound_at: datetime) -> list[str]:
        """Link an openid to a user, replacing either's earlier binding; return the replaced openids."""
        rows = await self._all("SELECT openid FROM wechat_bindings WHERE user_id = ? AND openid != ?",
                               (user_id, openid))
        await self._exec("DELETE FROM wechat_bindings WHERE user_id = ? OR openid = ?", (user_id, openid))
        await self._exec(
            "INSERT INTO wechat_bindings (openid, user_id, subscribed, last_inbound_at, bound_at, updated_at) "
            "VALUES (?, ?, 1, ?, ?, ?)", (openid, user_id, to_db(last_inbound_at), to_db(at), to_db(at)))
        return [r[0] for r in rows]

    async def unbind_openid(self, openid: str) -> Binding | None:
        """Remove an openid's binding; return what was removed."""
        binding = await self.binding_of_openid(openid)
        if binding is not None:
            await self._exec("DELETE FROM wechat_bindings WHERE openid = ?", (openid,))
        return binding

    async def set_subscribed(self, openid: str, subscribed: bool, at: datetime) -> bool:
        """Mark a bound openid (un)subscribed; True when that changed something."""
        return bool(await self._exec(
            "UPDATE wechat_bindings SET subscribed = ?, updated_at = ? WHERE openid = ? AND subscribed != ?",
            (int(subscribed), to_db(at), openid, int(subscribed))))

    async def touch_wechat(self, openid: str, at: datetime) -> None:
        """Note an interaction from a bound openid (opens the 48-hour customer-service window)."""
        await self._exec(
            "UPDATE wechat_bindings SET last_inbound_at = ? WHERE openid = ? "
            "AND (last_inbound_at IS NULL OR last_inbound_at < ?)", (to_db(at), openid, to_db(at)))

    async def save_code(self, state: CodeState) -> None:
        """Store a new pending code for an openid (its wrong tries and lock are kept)."""
        await self._exec(
            "INSERT INTO wechat_codes (openid, user_id, code_hash, outbox_key, sent_at, expires_at, failures, "
            "locked_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (openid) DO UPDATE SET "
            "user_id = excluded.user_id, code_hash = excluded.code_hash, outbox_key = excluded.outbox_key, "
            "sent_at = excluded.sent_at, expires_at = excluded.expires_at, failures = excluded.failures, "
            "locked_until = excluded.locked_until",
            (state.openid, state.user_id, state.code_hash, state.outbox_key,
             to_db(state.sent_at) if state.sent_at else None, to_db(state.expires_at) if state.expires_at else None,
             state.failures, to_db(state.locked_until) if state.locked_until else None))

    async def add_code_request(self, key_hashes: Sequence[str], at: datetime, forget_before: datetime) -> None:
        """Count a code request (for a phone, by an openid); requests older than `forget_before` go."""
        await self._exec("DELETE FROM bind_code_requests WHERE at < ?", (to_db(forget_before),))
        await self._many("INSERT INTO bind_code_requests (key_hash, at) VALUES (?, ?)",
                         [(key, to_db(at)) for key in key_hashes])

    async def delete_code(self, openid: str) -> None:
        """Forget an openid's code, wrong tries and lock (after a successful binding)."""
        await self._exec("DELETE FROM wechat_codes WHERE openid = ?", (openid,))

    async def void_outbox_params(self, idem_key: str, params: Mapping[str, str], at: datetime) -> None:
        """Overwrite some parameters of a message (a spent or void code); cancel it if not sent yet."""
        await self._exec(
            "UPDATE outbox SET params = json_patch(params, ?), "
            f"done_at = CASE WHEN status IN {_WAITING} THEN ? ELSE done_at END, "
            f"error = CASE WHEN status IN {_WAITING} THEN 'void before it was sent' ELSE error END, "
            f"status = CASE WHEN status IN {_WAITING} THEN 'cancelled' ELSE status END WHERE idem_key = ?",
            (json.dumps(dict(params), ensure_ascii=False), to_db(at), idem_key))

    async def hold_replies(self, inbound_id: int, address: str, until: datetime) -> int:
        """Keep the dispatcher off the WeChat replies to one message until `until` (passive window)."""
        low, high = reply_key_range(inbound_id)
        return await self._exec(
            "UPDATE outbox SET due_at = ? WHERE idem_key >= ? AND idem_key < ? AND channel = 'wechat' "
            "AND address = ? AND status = 'queued' AND due_at < ?", (to_db(until), low, high, address, to_db(until)))

    async def release_replies(self, inbound_id: int, address: str, now: datetime) -> int:
        """Make held WeChat replies to one message due now (they go through the API)."""
        low, high = reply_key_range(inbound_id)
        return await self._exec(
            f"UPDATE outbox SET due_at = ? WHERE idem_key >= ? AND idem_key < ? AND channel = 'wechat' "
            f"AND address = ? AND status IN {_WAITING} AND due_at > ?", (to_db(now), low, high, address, to_db(now)))

    async def claim_passive(self, inbound_id: int, address: str, lease_until: datetime) -> Claimed | None:
        """Claim the first waiting WeChat reply to one message for a passive reply (as the dispatcher would)."""
        low, high = reply_key_range(inbound_id)
        r = await self._one(
            "UPDATE outbox SET status = 'sending', lease_until = ?, attempts = attempts + 1 WHERE id = ("
            f"SELECT o.id FROM outbox o WHERE o.idem_key >= ? AND o.idem_key < ? AND o.channel = 'wechat' "
            f"AND o.address = ? AND o.status IN {_WAITING} AND (o.user_id IS NULL OR o.template_key = 'opted_out' "
            "OR (SELECT status FROM users WHERE id = o.user_id) != 'opted_out') ORDER BY o.id LIMIT 1) "
            "RETURNING id, idem_key, purpose, priority, urgent, channel, address, user_id, template_key, params, "
            "attempts, route_index, expires_at", (to_db(lease_until), low, high, address))
        if r is None:
            return None
        return Claimed(r["id"], r["idem_key"], r["purpose"], r["priority"], bool(r["urgent"]), r["channel"],
                       r["address"], r["user_id"], r["template_key"], json.loads(r["params"]), r["attempts"],
                       r["route_index"], from_db(r["expires_at"]))

    async def move_waiting_to_sms(self, openid: str) -> int:
        """Send a user's waiting WeChat messages by SMS instead (they unsubscribed); return how many."""
        return await self._exec(
            "UPDATE outbox SET channel = 'sms', route_index = 0, address = (SELECT phone FROM users u "
            "WHERE u.id = outbox.user_id) WHERE channel = 'wechat' AND address = ? AND user_id IS NOT NULL "
            f"AND status IN {_WAITING}", (openid,))

    async def fan_out_wechat(self, alert: Alert, now: datetime, window_start: datetime, by_template: bool,
                             ids: tuple[int, int] | None = None) -> int:
        """WeChat copies of an urgent alert for its audience's bound, subscribed users reachable now
        (inside the window, or any when the kind has a template message); return rows added."""
        due = max(alert.send_at, now)
        head = (alert.id, priority_for("alert", True), alert.template_key,
                json.dumps(dict(alert.params), ensure_ascii=False, separators=(",", ":")), to_db(due),
                to_db(alert.expires_at), to_db(now), alert.id, int(by_template), to_db(window_start))
        added = 0
        for region in alert.target.regions:
            where, params = audience_where(alert.target, region, by_rowid=ids is not None, ids=ids)
            added += await self._exec_in_thread(_FANOUT_SQL.format(where=where), (*head, *params))
        return added

    async def fallback_to_sms(self, outbox_ids: Sequence[int], now: datetime) -> int:
        """Queue an SMS copy (key + ':sms') of failed non-SMS messages to active users; return rows added."""
        if not outbox_ids:
            return 0
        marks = ",".join("?" * len(outbox_ids))
        return await self._exec(
            "INSERT OR IGNORE INTO outbox (idem_key, purpose, priority, urgent, channel, address, user_id, "
            "template_key, params, due_at, expires_at, created_at, alert_id, ref) "
            "SELECT o.idem_key || ':sms', o.purpose, o.priority, o.urgent, 'sms', u.phone, o.user_id, o.template_key, "
            "o.params, ?, o.expires_at, ?, o.alert_id, o.ref FROM outbox o JOIN users u ON u.id = o.user_id "
            f"WHERE o.id IN ({marks}) AND o.channel != 'sms' AND u.status = 'active' AND o.expires_at > ?",
            (to_db(now), to_db(now), *outbox_ids, to_db(now)))
