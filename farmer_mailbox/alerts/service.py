"""The alert service: preview, create, confirm, approve, discard, cancel and monitor alerts.

Every path (JSON API, CLI, the warning feed, the pest calendar) comes through here: the draft is
checked (sender and scope, template and segment budget, times, crops), priced against the month
of every county bureau it reaches, and written with its record event in one transaction. An
alert that would take some county over budget is held for an admin's confirmation (`budgets.py`:
orange and red warnings too, unless `[alerts] urgent_over_budget = "send"`; the hold is logged and
every admin is told by SMS). Sending is not done here: the fan-out job (`fanout.py`) turns due alerts
into outbox rows; `on_due` wakes it at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from farmer_mailbox import wording
from farmer_mailbox.accounts import fail
from farmer_mailbox.clock import Clock
from farmer_mailbox.config import Config
from farmer_mailbox.models import Role
from farmer_mailbox.outbox_policy import QuietHours, parse_hhmm
from farmer_mailbox.regions import RegionTree, is_within
from farmer_mailbox.scoping import Actor
from farmer_mailbox.store import NewRecord, Reads, Store, Tx
from farmer_mailbox.text.lexicon import load_lexicon

from .budgets import Budgets
from .costs import Budget, Preview, charges_of, cost_of, town_lines
from .model import (
    CANCELLABLE,
    TEMPLATES_OF_KIND,
    Alert,
    AlertDraft,
    Kind,
    NewAlert,
    Progress,
    Severity,
    Status,
    Target,
    is_urgent,
)
from .targeting import (
    CropExpander,
    bureau_of,
    check_scope,
    check_sender,
    expand_crops,
    home_of,
    lexicon_expander,
    resolve_regions,
)
from .texts import area_name, clean_params, office_name, render_checked, template_fields

SYSTEM_CHANNEL = "system"
LATE_GRACE = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=366)   # an alert scheduled further ahead is a typo in the year
MAX_EXPIRY = timedelta(hours=8760)   # the longest [alerts] default_expiry_hours allowed
NOT_SENT = ("sending", "sent", "delivered", "failed", "expired")
Canonical = Callable[[tuple[str, ...]], tuple[str, ...]]


def _action(name: str) -> str:
    """What staff tried to do, as the 'alert.state' error names it (确认, 批准, 放弃, 取消)."""
    return wording.ALERT_WORDS[f"action.{name}"]


def _plain_words(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({w.strip() for w in words if w.strip()}))


def _lexicon_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """Canonical lexicon names of product words (水稻 → 稻谷); unknown words dropped."""
    lexicon = load_lexicon()
    found = (lexicon.lookup(w.strip()) for w in words if w.strip())
    return tuple(sorted({p.name for p in found if p is not None}))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked, priced alert ready to insert, and the preview shown for it."""

    new: NewAlert
    preview: Preview


class AlertService:
    """Alerts over the store; stateless apart from its collaborators."""

    def __init__(self, store: Store, tree: RegionTree, config: Config, clock: Clock, *,
                 signature: str | None = None, expander: CropExpander | None = None,
                 canonical: Canonical | None = None) -> None:
        self.store, self.tree, self.config, self.clock = store, tree, config, clock
        self.signature = config.sms.signature if signature is None else signature
        self.expander = expander or lexicon_expander(load_lexicon())
        self.canonical = canonical or _lexicon_words
        self.zone = ZoneInfo(config.service.timezone)
        self.quiet = QuietHours(parse_hhmm(config.outbox.quiet_start), parse_hhmm(config.outbox.quiet_end),
                                self.zone)
        self.budgets = Budgets(config, tree, clock, self.zone)
        self.on_due: Callable[[], None] = lambda: None

    # --- checking and pricing ----------------------------------------------------------------

    async def prepare(self, draft: AlertDraft, actor: Actor | None) -> Prepared:
        """Check a draft and price it without writing; `actor` None is the system (feeds, calendar)."""
        severity = self._severity(draft)
        regions = self._regions(draft, actor)
        params = self._with_defaults(draft.template_key, clean_params(draft.params), regions, severity)
        text, segments = render_checked(draft.template_key, params, self.signature)
        send_at, expires_at = self._times(draft)
        products = expand_crops(self.expander, draft.crops) if draft.crops else ()
        target = Target(regions, draft.roles, _plain_words(draft.crops), products, draft.recipients_of)
        urgent = is_urgent(draft.kind, severity)
        preview, charges = await self._price(target, text, segments, urgent, send_at, expires_at)
        new = NewAlert(
            kind=draft.kind, severity=severity, urgent=urgent, template_key=draft.template_key, params=params,
            target=target, county_code=bureau_of(regions), status=Status.SCHEDULED, send_at=send_at,
            expires_at=expires_at, segments=segments, price=preview.price, recipients=preview.recipients,
            cost_yuan=preview.cost_yuan, created_by=actor.user_id if actor else None, created_at=self.clock.now(),
            note=draft.note, charges=charges,
        )
        return Prepared(new, preview)

    def _regions(self, draft: AlertDraft, actor: Actor | None) -> tuple[str, ...]:
        """The draft's regions resolved near the actor and within their scope (any, for the system)."""
        if actor is not None:
            check_sender(actor)
        if draft.template_key not in TEMPLATES_OF_KIND[draft.kind]:
            raise fail("alert.template", kind=draft.kind.value, template=draft.template_key)
        regions = resolve_regions(self.tree, draft.regions, home_of(actor) if actor else None)
        if actor is not None:
            check_scope(actor, regions)
        return regions

    async def _price(self, target: Target, text: str, segments: int, urgent: bool, send_at: datetime,
                     expires_at: datetime) -> tuple[Preview, dict[str, int]]:
        """Count the audience by town and price it against the month of each county it reaches;
        return the preview and the recipients per county (what each bureau is charged for)."""
        counts = await self.store.audience_by_town(target)
        recipients, price = sum(counts.values()), self.config.sms.price_per_segment
        charges = charges_of(counts)
        budgets = await self.budgets.of(self.store, charges, send_at, segments, price)
        towns = town_lines(self.tree, counts, segments, price)
        preview = Preview(text, self.signature, segments, price, recipients, towns, budgets, urgent, send_at,
                          expires_at, None if urgent else self._quiet_wait(send_at), self.budgets.urgent_waits)
        return preview, charges

    async def preview(self, actor: Actor, draft: AlertDraft) -> Preview:
        """Recipients, segments and cost by town, and the budget, for an alert not yet created."""
        return (await self.prepare(draft, actor)).preview

    def _severity(self, draft: AlertDraft) -> Severity:
        if draft.kind is not Kind.WEATHER:
            return Severity.NONE
        if draft.severity is Severity.NONE:
            raise fail("alert.severity")
        return draft.severity

    def _with_defaults(self, key: str, params: dict[str, str], regions: tuple[str, ...],
                       severity: Severity) -> dict[str, str]:
        """Fill the bureau's name and the area named in the text when staff left them out; a warning's
        colour always follows its severity (the two cannot disagree)."""
        fields = template_fields(key)
        if "colour" in fields:
            params["colour"] = severity.zh
        if "office" in fields and not params.get("office"):
            params["office"] = office_name(self.tree, regions)
        if "area" in fields and not params.get("area"):
            params["area"] = area_name(self.tree, regions)
        return params

    def _times(self, draft: AlertDraft) -> tuple[datetime, datetime]:
        """When the alert goes and when its unsent copies expire: not in the past, not more than
        MAX_AHEAD ahead, expiring after it goes and within MAX_EXPIRY of it."""
        now = self.clock.now()
        send_at = draft.send_at or now
        if send_at < now - LATE_GRACE:
            raise fail("alert.past", when=send_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"))
        if send_at > now + MAX_AHEAD:
            raise fail("alert.too_far", when=send_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
                       days=MAX_AHEAD.days)
        expires = draft.expires_at or send_at + timedelta(hours=self.config.alerts.default_expiry_hours)
        if expires <= max(send_at, now):
            raise fail("alert.expiry")
        if expires > send_at + MAX_EXPIRY:
            raise fail("alert.expiry_far", days=MAX_EXPIRY.days)
        return send_at, expires

    def _quiet_wait(self, send_at: datetime) -> datetime | None:
        """When a non-urgent alert due in quiet hours will start going out."""
        return self.quiet.next_end(send_at) if self.quiet.contains(send_at) else None

    # --- writing -----------------------------------------------------------------------------

    async def insert(self, tx: Tx, new: NewAlert, actor: Actor | None, *, confirm: bool = False,
                     event: str = "alert_create") -> int:
        """Insert an alert with its charges and record event, held for an admin when it would take
        any county it reaches over budget.

        `confirm` (an admin's) lets it go anyway; so do orange and red warnings when the bureaus
        chose `urgent_over_budget = "send"`: the record notes they went over.
        """
        over: tuple[Budget, ...] = ()
        if new.status is Status.SCHEDULED:
            over = await self.budgets.over(tx, new)
            if over and confirm:
                new = replace(new, confirmed_by=actor.user_id if actor else None)
            elif over and self.budgets.must_wait(new.urgent):
                new = replace(new, status=Status.HELD)
        alert_id = await tx.insert_alert(new)
        await tx.set_alert_charges(alert_id, new.charges)
        await self._event(tx, actor, event, alert_id, kind=new.kind.value, status=new.status.value,
                          recipients=new.recipients, cost_yuan=new.cost_yuan, source=new.source,
                          over_budget=bool(over), over_counties=[b.county_code for b in over])
        if new.status is Status.HELD:
            await self.budgets.announce_hold(tx, alert_id, new, over)
        return alert_id

    async def create(self, actor: Actor, draft: AlertDraft, *, confirm_budget: bool = False) -> tuple[Alert, Preview]:
        """Create an alert (scheduled, or held when over budget); return it and its preview."""
        if confirm_budget and actor.role is not Role.ADMIN:
            raise fail("scope.role")
        prepared = await self.prepare(draft, actor)
        if prepared.preview.recipients == 0:
            raise fail("alert.empty")
        async with self.store.transaction() as tx:
            alert_id = await self.insert(tx, prepared.new, actor, confirm=confirm_budget)
            alert = await self._must(tx, alert_id)
        self._kick_if_due(alert)
        return alert, prepared.preview

    async def confirm(self, actor: Actor, alert_id: int) -> Alert:
        """An admin lets an alert held over budget go."""
        if actor.role is not Role.ADMIN:
            raise fail("scope.role")
        alert = await self._change(actor, alert_id, {Status.HELD}, "alert_confirm", _action("confirm"),
                                   status=Status.SCHEDULED, confirmed_by=actor.user_id)
        async with self.store.transaction() as tx:       # the other admins need not act any more
            await tx.cancel_notices(alert_id, "alert_held", self.clock.now())
        self._kick_if_due(alert)
        return alert

    async def approve(self, actor: Actor, alert_id: int, send_at: datetime | None = None, *,
                      params: Mapping[str, str] | None = None, regions: Sequence[str] = ()) -> Alert:
        """An officer approves a pest-calendar draft, optionally editing its text or narrowing its
        regions: re-priced now, then scheduled (or held over budget)."""
        alert = await self.get(actor, alert_id)
        self._require(alert, {Status.DRAFT}, _action("approve"))
        now = self.clock.now()
        edited = {**alert.params, **(params or {})}
        if regions and "area" not in (params or {}):
            edited.pop("area", None)    # named afresh for the narrowed regions
        draft = AlertDraft(
            kind=alert.kind, template_key=alert.template_key, params=edited,
            regions=tuple(regions) or alert.target.regions, severity=alert.severity, crops=alert.target.crops,
            roles=alert.target.roles, send_at=send_at or (alert.send_at if alert.send_at > now else None),
            expires_at=alert.expires_at, recipients_of=alert.target.recipients_of,
        )
        new = (await self.prepare(draft, actor)).new
        if new.recipients == 0:
            raise fail("alert.empty")
        async with self.store.transaction() as tx:
            self._require(await self._must(tx, alert_id), {Status.DRAFT}, _action("approve"))
            over = await self.budgets.over(tx, new)
            status = Status.HELD if over and self.budgets.must_wait(new.urgent) else Status.SCHEDULED
            await tx.update_alert(alert_id, now, status=status, send_at=new.send_at, expires_at=new.expires_at,
                                  recipients=new.recipients, cost_yuan=new.cost_yuan, segments=new.segments,
                                  params=new.params, regions=new.target.regions)
            await tx.set_alert_charges(alert_id, new.charges)
            await self._event(tx, actor, "alert_approve", alert_id, status=status.value, cost_yuan=new.cost_yuan,
                              over_budget=bool(over))
            if status is Status.HELD:
                await self.budgets.announce_hold(tx, alert_id, new, over)
            approved = await self._must(tx, alert_id)
        self._kick_if_due(approved)
        return approved

    async def discard(self, actor: Actor, alert_id: int) -> Alert:
        """An officer discards a pest-calendar draft."""
        await self.get(actor, alert_id)
        return await self._change(actor, alert_id, {Status.DRAFT}, "alert_discard", _action("discard"),
                                  status=Status.DISCARDED, done_at=self.clock.now())

    async def cancel(self, actor: Actor, alert_id: int, reason: str = "") -> Alert:
        """Cancel an alert: copies not yet sent are cancelled at once; those in flight finish."""
        await self.get(actor, alert_id)
        async with self.store.transaction() as tx:
            await self.cancel_in(tx, await self._must(tx, alert_id), actor, reason or "cancelled by staff")
            return await self._must(tx, alert_id)

    async def cancel_in(self, tx: Tx, alert: Alert, actor: Actor | None, reason: str) -> int:
        """Cancel an alert inside an open transaction; return copies cancelled."""
        self._require(alert, CANCELLABLE, _action("cancel"))
        now = self.clock.now()
        cancelled = await tx.cancel_outbox(alert_id=alert.id, at=now, reason=f"alert cancelled: {reason}")
        if alert.status is Status.HELD:
            await tx.cancel_notices(alert.id, "alert_held", now)
        kept = await tx.count_alert_rows(alert.id, NOT_SENT)
        await tx.update_alert(alert.id, now, status=Status.CANCELLED, done_at=now,
                              cost_yuan=cost_of(kept, alert.segments, alert.price))
        await self._event(tx, actor, "alert_cancel", alert.id, copies_cancelled=cancelled, reason=reason)
        return cancelled

    # --- reading -----------------------------------------------------------------------------

    async def get(self, actor: Actor, alert_id: int) -> Alert:
        """One alert the actor may see (officers: their county's), else 'alert.not_found'."""
        check_sender(actor)
        alert = await self.store.get_alert(alert_id)
        if alert is None or not self._visible(actor, alert):
            raise fail("alert.not_found")
        return alert

    async def list_alerts(self, actor: Actor, status: str | None = None, limit: int = 50) -> list[Alert]:
        """Latest alerts the actor may see, newest first."""
        check_sender(actor)
        county = None if actor.role is Role.ADMIN or actor.user is None else actor.user.county_code
        if status is not None:
            Status(status)
        return await self.store.list_alerts(county, status, limit)

    async def progress(self, actor: Actor, alert_id: int) -> tuple[Alert, Progress]:
        """An alert and its copies by outbox state (for monitoring and the progress bar)."""
        alert = await self.get(actor, alert_id)
        return alert, await self.store.alert_progress(alert_id)

    def _visible(self, actor: Actor, alert: Alert) -> bool:
        if actor.role is Role.ADMIN or actor.user is None:
            return True
        county = actor.user.county_code or ""
        return bool(county) and all(is_within(code, county) for code in alert.target.regions)

    # --- farmers' choices --------------------------------------------------------------------

    async def follow(self, user_id: int, words: Sequence[str], channel: str = "sms") -> tuple[str, ...]:
        """DY: follow more products (canonical names; unknown words dropped); return all followed."""
        products = self.canonical(tuple(words))
        async with self.store.transaction() as tx:
            added = await tx.add_interests(user_id, products)
            await tx.append_record(NewRecord(
                kind="event", channel=channel, at=self.clock.now(), user_id=user_id, text="interests_follow",
                detail=json.dumps({"products": list(products), "added": added}, ensure_ascii=False)))
            return await tx.interests_of(user_id)

    # --- helpers -----------------------------------------------------------------------------

    async def _change(self, actor: Actor, alert_id: int, allowed: set[Status], event: str, action: str,
                      **changes: object) -> Alert:
        async with self.store.transaction() as tx:
            self._require(await self._must(tx, alert_id), allowed, action)
            await tx.update_alert(alert_id, self.clock.now(), **changes)
            await self._event(tx, actor, event, alert_id, **{k: str(v) for k, v in changes.items()})
            return await self._must(tx, alert_id)

    @staticmethod
    def _require(alert: Alert, allowed: set[Status] | frozenset[Status], action: str) -> None:
        if alert.status not in allowed:
            raise fail("alert.state", status=alert.status.value, action=action)

    @staticmethod
    async def _must(reads: Reads, alert_id: int) -> Alert:
        alert = await reads.get_alert(alert_id)
        if alert is None:
            raise fail("alert.not_found")
        return alert

    def _kick_if_due(self, alert: Alert) -> None:
        if alert.status is Status.SCHEDULED and alert.send_at <= self.clock.now():
            self.on_due()

    async def _event(self, tx: Tx, actor: Actor | None, text: str, alert_id: int, **detail: object) -> None:
        """Record an alert action in the message record (who, what, which alert)."""
        by = actor.user_id if actor else None
        await tx.append_record(NewRecord(
            kind="event", channel=actor.channel.value if actor else SYSTEM_CHANNEL, at=self.clock.now(),
            user_id=by, text=text, detail=json.dumps({"alert": alert_id, "by": by, **detail}, ensure_ascii=False)))
