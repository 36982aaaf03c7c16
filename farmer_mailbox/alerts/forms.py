"""What staff type (CLI flags, JSON fields) into drafts, and alerts back into plain dicts.

Shared by `cli_alerts.py` and `web/api_alerts.py`, so both accept the same words: a kind, a
colour for weather, regions and crops as lists or comma-separated text (，、 too), roles, template
parameters, and times as "now", "07:00" (the next 07:00), "明天07:00", "2026-07-08 07:00" or ISO 8601.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from farmer_mailbox import wording
from farmer_mailbox.accounts import fail
from farmer_mailbox.models import Level
from farmer_mailbox.regions import RegionTree

from .costs import local_iso
from .model import TEMPLATES_OF_KIND, Alert, AlertDraft, Kind, Progress, Severity, Status
from .targeting import parse_roles

YEARS = (1900, 2999)   # the years a written time may name
_TOMORROW = re.compile(r"^(?:tomorrow|明天|明日)\s*(\d{1,2}[:：]\d{2})$", re.IGNORECASE)


def words(value: object) -> tuple[str, ...]:
    """A list, or text separated by commas (, ， 、) or spaces, as stripped words."""
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,，、\s]+", str(value))
    return tuple(str(w).strip() for w in items if str(w).strip())


def parse_when(text: object, now: datetime, zone: ZoneInfo) -> datetime | None:
    """A send or expiry time; None for now (empty, "now", "立即")."""
    raw = str(text or "").strip()
    if raw.lower() in ("", "now", "立即", "马上"):
        return None
    tomorrow = _TOMORROW.match(raw)
    clock = tomorrow.group(1) if tomorrow else raw
    if re.fullmatch(r"\d{1,2}[:：]\d{2}", clock):
        hour, minute = (int(x) for x in re.split("[:：]", clock))
        if hour > 23 or minute > 59:
            raise fail("alert.time", text=raw)
        local = now.astimezone(zone)
        when = datetime.combine(local.date(), time(hour, minute), zone)
        if tomorrow or when <= local:
            when += timedelta(days=1)
        return when
    try:
        parsed = datetime.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        raise fail("alert.time", text=raw) from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:   # near year 1 or 9999 a time zone or a day more overflows
        raise fail("alert.time", text=raw)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def draft_from(fields: Mapping[str, Any], now: datetime, zone: ZoneInfo) -> AlertDraft:
    """Build a draft from staff input (keys: kind, severity, template, params, regions, crops, roles,
    send_at, expires_at, note); raise ValidationError naming what is wrong."""
    try:
        kind = Kind(str(fields.get("kind", "")).strip().lower())
    except ValueError:
        raise fail("alert.kind") from None
    try:
        severity = Severity(str(fields.get("severity") or "").strip().lower())
    except ValueError:
        raise fail("alert.severity") from None
    params = fields.get("params") or {}
    if not isinstance(params, Mapping):
        raise fail("alert.params", template=str(fields.get("template", "")), missing="params")
    return AlertDraft(
        kind=kind, template_key=str(fields.get("template") or TEMPLATES_OF_KIND[kind][0]),
        params={str(k): str(v) for k, v in params.items()}, regions=words(fields.get("regions")),
        severity=severity, crops=words(fields.get("crops")), roles=parse_roles(words(fields.get("roles"))),
        send_at=parse_when(fields.get("send_at"), now, zone),
        expires_at=_expiry(fields.get("expires_at"), now, zone),
        note=str(fields.get("note") or ""),
    )


def _expiry(text: object, now: datetime, zone: ZoneInfo) -> datetime | None:
    """An expiry time, None for the default; "now" is no expiry (nothing could be sent)."""
    when = parse_when(text, now, zone)
    if when is None and str(text or "").strip():
        raise fail("alert.expiry")
    return when


def param_pairs(pairs: list[str] | None) -> dict[str, str]:
    """CLI `--param key=value` flags as a dict."""
    params: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail("alert.params", template="--param", missing=f"key=value ({pair})")
        params[key.strip()] = value.strip()
    return params


def alert_view(alert: Alert, tree: RegionTree, progress: Progress | None = None,
               zone: ZoneInfo | None = None) -> dict[str, object]:
    """An alert as JSON: its text, who it targets, when, what it costs, and (given) its progress."""
    view: dict[str, object] = {
        "id": alert.id, "kind": alert.kind.value, "severity": alert.severity.value, "status": alert.status.value,
        "needs_confirmation": alert.status is Status.HELD,     # over budget: an admin must confirm it
        "urgent": alert.urgent, "template_key": alert.template_key, "params": dict(alert.params),
        "text": wording.render(alert.template_key, alert.params),
        "regions": [{"code": c, "name": tree.display(c, Level.PROVINCE)} for c in alert.target.regions],
        "crops": list(alert.target.crops), "products": list(alert.target.products),
        "roles": [r.value for r in alert.target.roles], "county_code": alert.county_code,
        "send_at": local_iso(alert.send_at, zone), "expires_at": local_iso(alert.expires_at, zone),
        "recipients": alert.recipients, "segments": alert.segments, "price_per_segment": alert.price,
        "cost_yuan": alert.cost_yuan, "source": alert.source, "supersedes": alert.supersedes,
        "created_by": alert.created_by, "confirmed_by": alert.confirmed_by, "note": alert.note,
        "created_at": local_iso(alert.created_at, zone),
        "done_at": local_iso(alert.done_at, zone) if alert.done_at else None,
    }
    if progress is not None:
        view["progress"] = progress.as_dict()
    return view
