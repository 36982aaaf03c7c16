"""Official warnings into alerts: each warning once, updates supersede, cancellations lift.

Every warning id enters the ledger (`official_warnings`) in the same transaction as what it
caused, so a warning seen again (next poll, restart, two areas) does nothing more — except reach
a watched region it had not reached before, which extends its alert (the fan-out's unique keys
keep everyone else from a second copy). A new id that supersedes an earlier one:
- same event and colour, earlier alert still open: the warning is continued (更新/继续发布), not
  news: copies not yet sent get the new text and expiry, nobody gets a second message;
- another colour: the earlier alert's unsent copies are cancelled and the update goes to all;
- a cancellation: unsent copies are cancelled, and those who got it hear it was lifted (解除).
Orange and red warnings go even over the bureau's budget; other colours wait for an admin then.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from farmer_mailbox.store import NewRecord, Tx
from farmer_mailbox.validation import ValidationError

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
            outcomes[await self.take(w)] += 1
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
                     and a.params.get("event") == _event_name(w)), None)
        if same is not None:
            return await self._continue(w, same)
        return await self._new(w, earlier)

    def _params(self, w: OfficialWarning) -> dict[str, str]:
        limits = FIELD_LIMITS["weather_warning"]
        params = {"sender": w.sender[: limits["sender"]], "event": _event_name(w)[: limits["event"]],
                  "colour": w.colour.zh, "detail": detail_of(w.text) or w.title}
        return fit_free_text("weather_warning", params, self.service.signature)

    async def _new(self, w: OfficialWarning, earlier: list[Alert]) -> str:
        draft = AlertDraft(kind=Kind.WEATHER, template_key="weather_warning", params=self._params(w),
                           regions=w.regions, severity=w.colour, expires_at=w.end)
        try:
            prepared = await self.service.prepare(draft, None)
        except ValidationError as exc:
            log.error("warning %s could not become an alert: %s", w.id, exc.message)
            return await self._record(w, None, "refused", earlier)
        new = replace(prepared.new, source=f"{self.source.name}:{w.id}",
                      supersedes=earlier[0].id if earlier else None)
        async with self.store.transaction() as tx:
            for old in earlier:
                await self._supersede(tx, old, w)
            alert_id = await self.service.insert(tx, new, None, force=new.urgent, event="alert_create")
            await self._ledger(tx, w, alert_id, "new")
        self.service.on_due()
        return "new"

    async def _continue(self, w: OfficialWarning, alert: Alert) -> str:
        params = self._params(w)
        render_checked("weather_warning", params, self.service.signature)
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
            prepared = await self.service.prepare(self._lift_draft(w, heard), None)
            # good news is not urgent: a lift notice waits for the morning like other bulk messages
            new = replace(prepared.new, urgent=False, source=f"{self.source.name}:{w.id}")
            async with self.store.transaction() as tx:
                await self.service.insert(tx, new, None, force=True, event="alert_create")
            self.service.on_due()
        return "lifted"

    def _lift_draft(self, w: OfficialWarning, heard: list[Alert]) -> AlertDraft:
        """One 解除 notice for everyone who got any of the lifted alerts (their regions together)."""
        old = heard[0]
        when = (w.issued or self.clock.now()).astimezone(self.service.zone)
        params = {"sender": old.params.get("sender", w.sender), "time": f"{when.month}月{when.day}日{when.hour}时",
                  "event": old.params.get("event", _event_name(w)), "colour": old.severity.zh}
        expires = self.clock.now() + timedelta(hours=LIFT_NOTICE_HOURS)
        regions = disjoint(code for alert in heard for code in alert.target.regions)
        return AlertDraft(kind=Kind.WEATHER, template_key="weather_lifted", params=params, regions=regions,
                          severity=old.severity, expires_at=expires)

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
