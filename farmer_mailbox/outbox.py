"""The durable outbox: build rows with unique keys, dispatch them, apply delivery receipts.

Write before sending: every message is a committed row before any gateway sees it. The
dispatcher claims due rows (marking them `sending` with a lease), sends outside the
transaction, then records each outcome (in the transaction that claims the next batch): sent,
retry later (failover first, then backoff with jitter), failed, expired, or cancelled
(opted-out recipient).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from farmer_mailbox import wording
from farmer_mailbox.clock import Clock
from farmer_mailbox.config import Config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.outbox_policy import (
    QuietHours,
    cap_delay,
    local_day_start,
    parse_hhmm,
    plan_retry,
    priority_for,
)
from farmer_mailbox.store import Store, Tx
from farmer_mailbox.store.sql_outbox import Claimed, NewOutbound, Outcome
from farmer_mailbox.wechat.preference import ChannelPreference
from farmer_mailbox.workers import wait_for_work
from gateways import Capabilities, DeliveryReceipt, OutboundSms, SendError
from gateways.common import billed_segments

log = logging.getLogger(__name__)
OPT_OUT_CONFIRMATION = "opted_out"
EARLY_RECEIPT_TTL = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Message:
    """What the rest of the service asks to send: a template, its params, to whom, why."""

    idem_key: str
    purpose: str
    address: str
    template_key: str
    params: Mapping[str, str]
    user_id: int | None = None
    urgent: bool = False
    channel: str = "sms"
    not_before: datetime | None = None
    expires_at: datetime | None = None
    alert_id: int | None = None
    ref: str = ""


def check_params(template_key: str, params: Mapping[str, object]) -> None:
    """Refuse a message whose template is unknown or lacks a parameter its text uses.

    Raised at enqueue, inside the caller's transaction: a programming error fails loudly there
    instead of poisoning the dispatcher later.
    """
    if template_key not in wording.TEMPLATES:
        raise KeyError(f"unknown template {template_key!r}")
    missing = sorted(wording.template_fields(template_key) - params.keys())
    if missing:
        raise KeyError(f"template {template_key!r} needs params {', '.join(missing)}")


def billed(caps: Capabilities, text: str, reported: int | None) -> int:
    """SMS segments a sent message costs: what the provider reported, else our count; 0 off SMS."""
    if caps.channel != "sms":
        return 0
    return reported or billed_segments(caps.signature, text)


def _sms_fallbacks(claimed: Sequence[Claimed], outcomes: Sequence[Outcome]) -> list[int]:
    """Rows failed for good on another channel (WeChat) that should go again by SMS to the user.

    Urgent rows are left out: they were enqueued with an SMS copy already.
    """
    urgent = {c.id for c in claimed if c.urgent}
    return [o.id for o in outcomes
            if o.status == "failed" and o.channel != "sms" and o.user_id is not None and o.id not in urgent]


class Outbox:
    """Enqueue, dispatch and receipt handling over the store and the gateway router."""

    def __init__(self, store: Store, router: GatewayRouter, config: Config, clock: Clock,
                 rng: random.Random | None = None) -> None:
        self.store, self.router, self.clock = store, router, clock
        self.cfg = config.outbox
        self.zone = ZoneInfo(config.service.timezone)
        self.quiet = QuietHours(parse_hhmm(self.cfg.quiet_start), parse_hhmm(self.cfg.quiet_end), self.zone)
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._max_age = timedelta(hours=self.cfg.max_age_hours)
        self.preference = ChannelPreference.build(config, router)
        self.dispatched = 0
        self._unrecorded: tuple[Sequence[Claimed], list[Outcome]] | None = None   # sent, not yet recorded

    # --- enqueue -----------------------------------------------------------------------------

    def row(self, msg: Message, now: datetime | None = None) -> NewOutbound:
        """Turn a Message into an outbox row with its priority, due time and expiry."""
        now = now or self.clock.now()
        return self._row(msg, now, now + self._max_age)

    def _row(self, msg: Message, now: datetime, default_expiry: datetime) -> NewOutbound:
        check_params(msg.template_key, msg.params)
        due = msg.not_before or now
        expires = msg.expires_at or (due + self._max_age if msg.not_before else default_expiry)
        return NewOutbound(
            msg.idem_key, msg.purpose, priority_for(msg.purpose, msg.urgent), msg.urgent, msg.channel,
            msg.address, msg.user_id, msg.template_key, {k: str(v) for k, v in msg.params.items()},
            due, expires, now, msg.alert_id, msg.ref,
        )

    def rows(self, messages: Sequence[Message]) -> list[NewOutbound]:
        """Rows for several messages created at one instant (their default expiry computed once)."""
        now = self.clock.now()
        default_expiry = now + self._max_age
        return [self._row(m, now, default_expiry) for m in messages]

    async def enqueue(self, tx: Tx, messages: Sequence[Message], *, answering: tuple[str, str] | None = None) -> int:
        """Route messages to each user's channel (WeChat or SMS, see wechat.preference), then add
        them in `tx`; `answering` is the (channel, sender) whose direct answers stay put. Rows added."""
        routed = await self.preference.route(tx, messages, self.clock.now(), answering)
        return await tx.enqueue(self.rows(routed))

    async def send_now(self, *messages: Message) -> int:
        """Enqueue messages in their own transaction and wake the dispatcher; return rows added."""
        async with self.store.transaction() as tx:
            added = await self.enqueue(tx, messages)
        self.wake()
        return added

    def wake(self) -> None:
        """Tell an idle dispatcher there is new work."""
        self._wake.set()

    # --- dispatch ----------------------------------------------------------------------------

    async def recover(self) -> int:
        """At start: rows left `sending` by a crash go back to errored (sent again)."""
        async with self.store.transaction() as tx:
            count = await tx.recover_sending(self.clock.now(), everything=True)
        if count:
            log.warning("outbox: %d message(s) were in flight at the last stop; they will be retried", count)
        return count

    async def housekeeping(self) -> tuple[int, int]:
        """Expire overdue rows, recover expired leases, drop stale early receipts; (expired, recovered).

        A receipt kept for a send not yet recorded matches within seconds; one still unmatched
        after EARLY_RECEIPT_TTL names a message we never sent (or a provider's stray) and goes.
        """
        now = self.clock.now()
        async with self.store.transaction() as tx:
            expired, recovered = await tx.expire_due(now), await tx.recover_sending(now)
            pruned = await tx.prune_early_receipts(now - EARLY_RECEIPT_TTL)
        if pruned:
            log.info("outbox: dropped %d delivery receipt(s) that matched no message", pruned)
        return expired, recovered

    async def dispatch_once(self) -> int:
        """Claim one batch of due rows, send them, record outcomes; return rows handled."""
        handled = await self._round()
        if self._unrecorded is not None:
            async with self.store.transaction() as tx:
                await self._record(tx)
            self._recorded()
        return handled

    async def _round(self) -> int:
        """Record the last round's outcomes and claim the next batch in one transaction, then send
        it; return rows claimed. Its outcomes wait in `_unrecorded` for the next transaction.

        One transaction per round instead of two (claim, then outcomes): the dispatcher's rounds
        follow each other at once while there is work, and an idle one records what it holds
        when it finds nothing due. A crash before then leaves the rows `sending`, retried after
        their lease as a crash during the sends always did.
        """
        now = self.clock.now()
        lease = now + timedelta(seconds=self.cfg.lease_seconds)
        try:
            async with self.store.transaction() as tx:
                await self._record(tx)
                claimed = await tx.claim(now, lease, self.router.claim_size(self.cfg.batch_size),
                                         self.quiet.contains(now))
        except Exception:
            await self._record_alone()   # whichever half failed, the outcomes must not block every round
            raise
        self._recorded()
        if not claimed:
            return 0
        held, to_send = await self._apply_caps(claimed, now)
        self._unrecorded = (claimed, held + await self._send_all(to_send))
        return len(claimed)

    async def _send_all(self, rows: Sequence[Claimed]) -> list[Outcome]:
        """Send rows, `concurrency` at a time, by that many workers (not a task per row); outcomes in order."""
        outcomes: dict[int, Outcome] = {}
        todo = iter(enumerate(rows))

        async def worker() -> None:
            for n, c in todo:
                outcomes[n] = await self._send_one(c)

        await asyncio.gather(*(worker() for _ in range(min(self.cfg.concurrency, len(rows)))))
        return [outcomes[n] for n in range(len(rows))]

    async def _record(self, tx: Tx) -> None:
        """Write the outcomes of the last round's sends (and the SMS fall-backs) in `tx`, if any."""
        if self._unrecorded is None:
            return
        claimed, outcomes = self._unrecorded
        await tx.record_outcomes(outcomes)
        await tx.fallback_to_sms(_sms_fallbacks(claimed, outcomes), self.clock.now())

    async def _record_alone(self) -> None:
        """Record held outcomes in a transaction of their own; if even that fails, let them go
        (their rows stay `sending` and are sent again once their lease runs out)."""
        if self._unrecorded is None:
            return
        try:
            async with self.store.transaction() as tx:
                await self._record(tx)
        except Exception:
            log.exception("outcomes of %d sends could not be recorded; they go again after their lease",
                          len(self._unrecorded[1]))
            self._unrecorded = None
            return
        self._recorded()

    def _recorded(self) -> None:
        """The transaction that wrote `_unrecorded` committed."""
        if self._unrecorded is not None:
            self.dispatched += sum(1 for o in self._unrecorded[1] if o.status == "sent")
        self._unrecorded = None

    async def _apply_caps(self, claimed: Sequence[Claimed], now: datetime) -> tuple[list[Outcome], list[Claimed]]:
        """Hold back bulk messages to recipients over their hourly or daily cap."""
        bulk = [c for c in claimed if c.priority > 0 and not c.urgent]
        counts = await self.store.recipient_counts(
            sorted({c.address for c in bulk}), now - timedelta(hours=1), local_day_start(now, self.zone))
        held: list[Outcome] = []
        to_send: list[Claimed] = [c for c in claimed if c.priority == 0 or c.urgent]
        for c in bulk:
            hour, day = counts.get(c.address, (0, 0))
            later = cap_delay(now, hour, day, self.cfg.per_recipient_hour, self.cfg.per_recipient_day, self.zone,
                              self.quiet.end)
            if later is None:
                counts[c.address] = (hour + 1, day + 1)
                to_send.append(c)
            else:
                held.append(Outcome(c.id, "queued", now, due_at=later, route_index=c.route_index,
                                    error="recipient cap reached", refund_attempt=True))
        return held, to_send

    def _final(self, c: Claimed, status: str, error: str, gateway: str | None = None, text: str = "",
               external_id: str | None = None, segments: int | None = None) -> Outcome:
        return Outcome(c.id, status, self.clock.now(), gateway=gateway, external_id=external_id,
                       segments=segments, error=error or None, route_index=c.route_index, text=text,
                       channel=c.channel, address=c.address, user_id=c.user_id)

    async def _send_one(self, c: Claimed) -> Outcome:
        """Send one claimed row through its route; never raises.

        Anything that goes wrong for this row alone (a template that will not render, a bug)
        fails this row with the reason; the other rows of the batch go on.
        """
        try:
            return await self._attempt(c)
        except Exception as exc:
            log.exception("outbox %d (%s) could not be sent", c.id, c.template_key)
            return self._final(c, "failed", f"internal error: {type(exc).__name__}: {exc}")

    async def _attempt(self, c: Claimed) -> Outcome:
        if c.user_status == "opted_out" and c.template_key != OPT_OUT_CONFIRMATION:
            return self._final(c, "cancelled", "recipient opted out")
        if c.expires_at <= self.clock.now():
            return self._final(c, "expired", "not sent before expiry")
        try:
            route = self.router.route(c.purpose, c.channel)
        except LookupError as exc:
            return self._final(c, "failed", str(exc))
        name = route[min(c.route_index, len(route) - 1)]
        gateway = self.router.gateway(name)
        text = wording.render(c.template_key, c.params, c.channel)
        shown = (wording.render_for_record(c.template_key, c.params, c.channel)   # one-time codes masked
                 if wording.TEMPLATES[c.template_key].secret else text)
        caps = gateway.capabilities()
        await self.router.limiter(name).acquire()
        sms = OutboundSms(c.id, c.address, c.template_key, c.params, text, c.idem_key)
        try:
            result = await gateway.send(sms)
        except SendError as exc:
            return self._after_error(c, name, route, shown, exc.code, exc.message, exc.retryable)
        except Exception as exc:  # a gateway bug must not lose the message: retry it
            log.exception("gateway %s raised while sending outbox %d", name, c.id)
            return self._after_error(c, name, route, shown, type(exc).__name__, str(exc), True)
        return self._final(c, "sent", "", gateway=name, text=shown,
                           external_id=result.external_ids[0] if result.external_ids else None,
                           segments=billed(caps, text, result.segments))

    def _after_error(self, c: Claimed, name: str, route: list[str], text: str, code: str, message: str,
                     retryable: bool) -> Outcome:
        error = f"{name}: {code}" + (f" {message}" if message else "")
        if not retryable:
            return self._final(c, "failed", error, gateway=name, text=text)
        plan = plan_retry(c.route_index, len(route), c.attempts, self.cfg.backoff_base_seconds,
                          self.cfg.backoff_max_seconds, self._rng)
        due = self.clock.now() + timedelta(seconds=plan.delay)
        if due >= c.expires_at:
            return self._final(c, "expired", f"{error}; no retry before expiry", gateway=name)
        return Outcome(c.id, "errored", self.clock.now(), gateway=name, error=error, due_at=due,
                       route_index=plan.route_index)

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set: batches back to back, then wait for work or a poll."""
        await self.recover()
        housekeeping_due = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                try:
                    if loop.time() >= housekeeping_due:
                        await self.housekeeping()
                        housekeeping_due = loop.time() + 30
                    if await self._round():
                        continue
                except Exception:
                    log.exception("outbox dispatcher round failed; retrying")
                await wait_for_work(self._wake, stop, self.cfg.poll_seconds)
        finally:
            await self._record_alone()   # the last round's outcomes, before the store closes

    async def drain(self, max_rounds: int = 10_000) -> int:
        """Dispatch until nothing is due (tests, replays, benchmarks); return rows handled."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.dispatch_once()
            if not handled:
                break
            total += handled
        return total

    # --- receipts ----------------------------------------------------------------------------

    async def apply_receipts(self, gateway: str, receipts: Sequence[DeliveryReceipt]) -> int:
        """Apply delivery receipts from a gateway; return how many matched a sent row."""
        matched = 0
        now = self.clock.now()
        async with self.store.transaction() as tx:
            for r in receipts:
                matched += await tx.apply_receipt(gateway, r.external_id, r.status, r.detail, now)
        return matched
