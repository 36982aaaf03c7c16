"""Official warnings into alerts: each warning once, updates supersede, cancellations lift.

Every warning id enters the ledger (`official_warnings`) in the same transaction as what it
caused, so a warning seen again (next poll, restart, two areas) does nothing more — except reach
a watched region it had not reached before, which extends its alert (the fan-out's unique keys
keep everyone else from a second copy). A new id that supersedes an earlier one:
- same event and colour, earlier alert still open: the warning is continued (更新/继续发布), not
  news: copies not yet sent get the new text and expiry, nobody gets a second message;
- another colour: the earlier alert's unsent copies are cancelled and the update goes to all,
  once each, worded as an update ('weather_update') when anyone had the earlier version;
- a cancellation: unsent copies are cancelled, and those who got it hear it was lifted (解除).
Over a bureau's budget, warnings wait for an admin like other alerts (orange and red go anyway
with `[alerts] urgent_over_budget = "send"`). A warning that cannot be taken (its area names no
region we know, a bad text) is logged and skipped; the others in the round still are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from farmer_mailbox import wording
from farmer_mailbox.store import NewRecord, Tx
from farmer_mailbox.validation import ValidationError

from .costs import charges_of
from .model import CANCELLABLE, OPEN, RANK, Alert, AlertDraft, Kind, Severity, Status
from .service import SYSTEM_CHANNEL, AlertService
from .targeting import disjoint
from .texts import FIELD_LIMITS, fit_free_text, render_checked
from .warnings import OfficialWarning, WarningArea, WarningFeedError, WarningSource, WarningStatus, detail_of

log = logging.getLogger(__name__)
LIFT_NOTICE_HOURS = 12
EXTENDABLE = frozenset({Status.SCHEDULED, Status.HELD, Status.SENDING, Status.SENT})
CONCURRENCY = 4


class WarningIntake:
    """Polls a warning source for the watched areas and turns what is new into alerts."""

    def __init__(self, service: AlertService, source: WarningSource, areas: list[WarningArea], *,
                 min_colour: Severity = Severity.BLUE, lift_notice: bool = True) -> None:
        self.service, self.source, self.areas = service, source, areas
        self.store, self.clock = service.store, service.clock
        self.min_colour, self.lift_notice = min_colour, lift_notice

    async def poll(self) -> dict[str, int]:
        """The periodic job: fetch every area, merge the same warning across areas, take each once."""
        limit = asyncio.Semaphore(CONCURRENCY)

        async def fetch(area: WarningArea) -> list[OfficialWarning]:
            async with limit:
                try:
                    return [replace(w, regions=(area.region,)) for w in await self.source.fetch(area)]
                except WarningFeedError as exc:
                    log.warning("warning feed %s failed for %s: %s", self.source.name, area.region, exc)
                    return []

        merged: dict[str, OfficialWarning] = {}
        for found in await asyncio.gather(*(fetch(a) for a in self.areas)):
            for w in found:
                earlier = merged.get(w.id)
                merged[w.id] = replace(w, regions=disjoint((*(earlier.regions if earlier else ()), *w.regions)))
        outcomes: Counter[str] = Counter()
        for w in sorted(merged.values(), key=_order):
            try:
                outcomes[await self.take(w)] += 1
            except Exception:  # one bad warning must not stop the others; not ledgered, so tried again
                log.exception("warning %s from %s for %s could not be taken; it is tried again next round",
                              w.id, self.source.name, ",".join(w.regions))
                outcomes["failed"] += 1
        return dict(outcomes)

    async def take(self, w: OfficialWarning) -> str:
        """Act on one warning (its `regions` set); return what happened."""
        seen = await self.store.official_warning(self.source.name, w.id)
        if seen is not None:
            return await self._extend(w, seen["alert_id"], seen["regions"])
        earlier = [a for a in [await self._alert_of(s) for s in w.supersedes] if a is not None]
        if w.status is WarningStatus.CANCEL:
            return await self._lift(w, earlier)
        now = self.clock.now()
        if w.end is not None and w.end <= now:
            return await self._record(w, None, "expired", earlier)
        if RANK[w.colour] < RANK[self.min_colour]:
            return await self._record(w, None, "below_threshold", earlier)
        same = next((a for a in earlier if a.status in OPEN and a.severity is w.colour
                     and a.params.get("event") == _event_name(w)[: FIELD_LIMITS[a.template_key]["event"]]), None)
        if same is not None:
            return await self._continue(w, same)
        return await self._new(w, earlier)

    def _params(self, w: OfficialWarning, template_key: str = "weather_warning") -> dict[str, str]:
        limits = FIELD_LIMITS[template_key]
        params = {"sender": w.sender[: limits["sender"]], "event": _event_name(w)[: limits["event"]],
                  "colour": w.colour.zh, "detail": detail_of(w.text) or w.title}
        return fit_free_text(template_key, params, self.service.signature)

    async def _new(self, w: OfficialWarning, earlier: list[Alert]) -> str:
        key = "weather_update" if w.status is WarningStatus.UPDATE and await self._any_heard(earlier) \
            else "weather_warning"
        draft = AlertDraft(kind=Kind.WEATHER, template_key=key, params=self._params(w, key),
                           regions=w.regions, severity=w.colour, expires_at=w.end)
        try:
            prepared = await self.service.prepare(draft, None)
        except ValidationError as exc:
            log.error("warning %s for %s could not become an alert (skipped): %s", w.id, ",".join(w.regions),
                      exc.message)
            return await self._record(w, None, "refused", earlier)
        new = replace(prepared.new, source=f"{self.source.name}:{w.id}",
                      supersedes=earlier[0].id if earlier else None)
        async with self.store.transaction() as tx:
            for old in earlier:
                await self._supersede(tx, old, w)
            alert_id = await self.service.insert(tx, new, None, event="alert_create")
            await self._ledger(tx, w, alert_id, "new")
        self.service.on_due()
        return "new"

    async def _any_heard(self, alerts: list[Alert]) -> bool:
        """True when some copy of these alerts reached a phone (the next version is an update)."""
        for alert in alerts:
            if (await self.store.alert_progress(alert.id)).sent:
                return True
        return False

    async def _continue(self, w: OfficialWarning, alert: Alert) -> str:
        params = self._params(w, alert.template_key)
        render_checked(alert.template_key, params, self.service.signature)
        expires = max(alert.expires_at, w.end or alert.expires_at)
        async with self.store.transaction() as tx:
            await tx.update_alert(alert.id, self.clock.now(), params=params, expires_at=expires)
            await tx.retext_waiting(alert.id, params, expires)
            await self._ledger(tx, w, alert.id, "continued")
        return "continued"

    async def _lift(self, w: OfficialWarning, earlier: list[Alert]) -> str:
        heard: list[Alert] = []
        async with self.store.transaction() as tx:
            for old in earlier:
                if old.status in CANCELLABLE:
                    await self.service.cancel_in(tx, old, None, f"warning lifted ({w.id})")
                if (await tx.alert_progress(old.id)).sent:
                    heard.append(old)
            await self._ledger(tx, w, None, "lifted")
        if self.lift_notice and heard:
            try:
                prepared = await self.service.prepare(self._lift_draft(w, heard), None)
            except ValidationError as exc:
                log.error("warning %s was lifted but the notice could not be written: %s", w.id, exc.message)
                return "lifted"
            # good news is not urgent: a lift notice waits for the morning like other bulk messages,
            # and waits for an admin like them when it would go over budget
            new = replace(prepared.new, urgent=False, source=f"{self.source.name}:{w.id}")
            async with self.store.transaction() as tx:
                await self.service.insert(tx, new, None, event="alert_create")
            self.service.on_due()
        return "lifted"

    def _lift_draft(self, w: OfficialWarning, heard: list[Alert]) -> AlertDraft:
        """One 解除 notice for everyone who got any of the lifted alerts, and only them (their copies
        were sent; those whose copy was cancelled never heard of the warning)."""
        old = heard[0]
        when = (w.issued or self.clock.now()).astimezone(self.service.zone)
        time = wording.ALERT_WORDS["date_hour"].format(month=when.month, day=when.day, hour=when.hour)
        params = {"sender": old.params.get("sender", w.sender), "time": time,
                  "event": old.params.get("event", _event_name(w)), "colour": old.severity.zh}
        expires = self.clock.now() + timedelta(hours=LIFT_NOTICE_HOURS)
        regions = disjoint(code for alert in heard for code in alert.target.regions)
        return AlertDraft(kind=Kind.WEATHER, template_key="weather_lifted", params=params, regions=regions,
                          severity=old.severity, expires_at=expires, recipients_of=tuple(a.id for a in heard))

    async def _extend(self, w: OfficialWarning, alert_id: int | None, regions: list[str]) -> str:
        wider = disjoint((*regions, *w.regions))
        if alert_id is None or set(wider) == set(disjoint(regions)):
            return "seen"
        async with self.store.transaction() as tx:
            alert = await tx.get_alert(alert_id)
            if alert is None or alert.status not in EXTENDABLE:
                return "seen"
            targets = disjoint((*alert.target.regions, *w.regions))
            status = Status.SENDING if alert.status is Status.SENT else alert.status
            await tx.update_alert(alert_id, self.clock.now(), regions=targets, status=status, fanned_out_at=None,
                                  fanout_cursor=0, done_at=None)
            counts = await tx.audience_by_town(replace(alert.target, regions=targets))
            await tx.set_alert_charges(alert_id, charges_of(counts))   # the new counties pay their share
            await tx.update_warning_regions(self.source.name, w.id, wider)
            await self._event(tx, w, "extended", alert_id)
        self.service.on_due()
        return "extended"

    async def _supersede(self, tx: Tx, old: Alert, w: OfficialWarning) -> None:
        fresh = await tx.get_alert(old.id)
        if fresh is not None and fresh.status in CANCELLABLE:
            await self.service.cancel_in(tx, fresh, None, f"superseded by warning {w.id}")

    async def _record(self, w: OfficialWarning, alert_id: int | None, outcome: str, earlier: list[Alert]) -> str:
        async with self.store.transaction() as tx:
            for old in earlier:
                await self._supersede(tx, old, w)
            await self._ledger(tx, w, alert_id, outcome)
        return outcome

    async def _ledger(self, tx: Tx, w: OfficialWarning, alert_id: int | None, outcome: str) -> None:
        await tx.record_warning(self.source.name, w.id, w.status.value, alert_id, w.regions, self.clock.now(),
                                w.raw)
        await self._event(tx, w, outcome, alert_id)

    async def _event(self, tx: Tx, w: OfficialWarning, outcome: str, alert_id: int | None) -> None:
        detail = {"source": self.source.name, "warning": w.id, "status": w.status.value, "colour": w.colour.value,
                  "type": w.type_name, "regions": list(w.regions), "outcome": outcome, "alert": alert_id}
        await tx.append_record(NewRecord(kind="event", channel=SYSTEM_CHANNEL, at=self.clock.now(),
                                         text="warning_received", detail=json.dumps(detail, ensure_ascii=False)))

    async def _alert_of(self, warning_id: str) -> Alert | None:
        seen = await self.store.official_warning(self.source.name, warning_id)
        alert_id = seen["alert_id"] if seen else None
        return await self.store.get_alert(alert_id) if alert_id is not None else None


def _event_name(w: OfficialWarning) -> str:
    return w.type_name or w.title


def _order(w: OfficialWarning) -> tuple[float, int]:
    """Oldest first; at the same time first issues before updates before cancellations."""
    when = w.issued or w.start
    rank = {WarningStatus.ALERT: 0, WarningStatus.UPDATE: 1, WarningStatus.CANCEL: 2}[w.status]
    return (when.timestamp() if when else 0.0, rank)
