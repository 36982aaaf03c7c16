"""Due alerts into the outbox, in SQL, resumable; and closing alerts whose copies are all final.

The durable state is the alert row: its status, `fanout_cursor` (highest user id done) and
`fanned_out_at`. Each chunk is one transaction that enqueues copies (unique keys) and moves the
cursor, so a crash, a restart, a second scheduler firing or a manual run adds nothing twice.
A cancel between chunks stops the rest; an alert past its expiry is not fanned out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from farmer_mailbox.clock import Clock
from farmer_mailbox.store import NewRecord, Store, Tx
from farmer_mailbox.wechat.preference import ChannelPreference

from .costs import cost_of
from .model import Alert, Status
from .service import SYSTEM_CHANNEL

log = logging.getLogger(__name__)


class Fanout:
    """The fan-out and closing jobs; every method is safe to run again or concurrently."""

    def __init__(self, store: Store, clock: Clock, *, chunk: int, wake: Callable[[], None] | None = None,
                 wechat: ChannelPreference | None = None) -> None:
        self.store, self.clock, self.chunk = store, clock, chunk
        self.wake = wake or (lambda: None)
        self.wechat = wechat or ChannelPreference()   # urgent alerts also go by WeChat when configured

    async def tick(self) -> int:
        """The periodic job: fan out what is due, then close what is done; return rows enqueued."""
        added = await self.run_due()
        await self.finish()
        return added

    async def run_due(self) -> int:
        """Fan out every alert whose send time has come; return rows enqueued.

        One chunk at a time, re-reading what is due after each, so an urgent warning that becomes
        due while a province-wide notice is being fanned out goes next, not after it.
        """
        total = 0
        while (added := await self._next_chunk()) is not None:
            total += added
            self.wake()
        return total

    async def _next_chunk(self) -> int | None:
        """One chunk of the most pressing due alert (urgent first); None when none has work left."""
        for alert_id in await self.store.due_alert_ids(self.clock.now()):
            added = await self.step(alert_id)
            if added is not None:
                return added
        return None

    async def fan_out(self, alert_id: int) -> int:
        """Fan one alert out chunk by chunk until done, cancelled or expired; return rows enqueued."""
        total = 0
        while (added := await self.step(alert_id)) is not None:
            total += added
            self.wake()
        return total

    async def step(self, alert_id: int) -> int | None:
        """Fan out one chunk in one transaction; None when there is nothing (more) to do."""
        async with self.store.transaction() as tx:
            alert = await tx.get_alert(alert_id)
            now = self.clock.now()
            if (alert is None or alert.status not in (Status.SCHEDULED, Status.SENDING)
                    or alert.fanned_out_at is not None or alert.send_at > now):
                return None
            if alert.expires_at <= now:
                await self._expire(tx, alert, now)
                return None
            last = await tx.max_user_id()
            if alert.fanout_cursor > 0 or alert.recipients >= self.chunk:
                upto = alert.fanout_cursor + self.chunk
                ids: tuple[int, int] | None = (alert.fanout_cursor, upto)
            else:
                upto, ids = last, None
            added = await tx.fan_out(alert, now, ids)
            if alert.urgent and self.wechat.wechat:   # a free extra copy; `added` counts SMS recipients
                await tx.fan_out_wechat(alert, now, now - self.wechat.window,
                                        alert.template_key in self.wechat.templates, ids)
            await self._advance(tx, alert, now, added, upto, done=upto >= last)
            return added

    async def _advance(self, tx: Tx, alert: Alert, now: datetime, added: int, upto: int, done: bool) -> None:
        first = alert.status is Status.SCHEDULED
        recipients = added if first else alert.recipients + added
        changes: dict[str, object] = {"status": Status.SENDING, "fanout_cursor": upto, "recipients": recipients}
        if done:
            changes |= {"fanned_out_at": now, "cost_yuan": cost_of(recipients, alert.segments, alert.price)}
        await tx.update_alert(alert.id, now, **changes)
        if first:
            await _event(tx, now, "alert_send", alert.id, urgent=alert.urgent)
        if done:
            await _event(tx, now, "alert_fanned_out", alert.id, recipients=recipients,
                         cost_yuan=changes["cost_yuan"])

    async def _expire(self, tx: Tx, alert: Alert, now: datetime) -> None:
        if alert.status is Status.SCHEDULED:
            await tx.update_alert(alert.id, now, status=Status.EXPIRED, done_at=now, cost_yuan=0.0)
            await _event(tx, now, "alert_expired", alert.id)
        else:  # expired mid fan-out: stop adding copies; the outbox expires the waiting ones
            await tx.update_alert(alert.id, now, fanned_out_at=now)
            await _event(tx, now, "alert_fanout_stopped", alert.id, recipients=alert.recipients)

    async def finish(self) -> int:
        """Mark alerts sent once no copy waits, and expire drafts and held alerts past expiry."""
        closed = 0
        for alert_id in await self.store.fanned_out_alert_ids():
            if not await self.store.alert_has_waiting(alert_id):
                closed += await self._close(alert_id)
        for alert_id in await self.store.stale_alert_ids(self.clock.now()):
            await self._expire_stale(alert_id)
        return closed

    async def _close(self, alert_id: int) -> int:
        async with self.store.transaction() as tx:
            alert = await tx.get_alert(alert_id)
            if (alert is None or alert.status is not Status.SENDING or alert.fanned_out_at is None
                    or await tx.alert_has_waiting(alert_id)):
                return 0
            now = self.clock.now()
            progress = await tx.alert_progress(alert_id)
            cost = cost_of(progress.sent, alert.segments, alert.price)
            # nothing accepted and copies expired: the alert expired (e.g. held by quiet hours past expiry)
            status = Status.EXPIRED if progress.sent == 0 and progress.get("expired") else Status.SENT
            await tx.update_alert(alert_id, now, status=status, done_at=now, cost_yuan=cost)
            await _event(tx, now, f"alert_{status.value}", alert_id, cost_yuan=cost, copies=progress.as_dict())
            return 1

    async def _expire_stale(self, alert_id: int) -> None:
        async with self.store.transaction() as tx:
            alert = await tx.get_alert(alert_id)
            now = self.clock.now()
            if alert and alert.status in (Status.DRAFT, Status.HELD, Status.SCHEDULED) and alert.expires_at <= now:
                await tx.update_alert(alert_id, now, status=Status.EXPIRED, done_at=now, cost_yuan=0.0)
                await _event(tx, now, "alert_expired", alert_id, was=alert.status.value)


async def _event(tx: Tx, at: datetime, text: str, alert_id: int, **detail: object) -> None:
    """A system event about an alert in the message record."""
    await tx.append_record(NewRecord(kind="event", channel=SYSTEM_CHANNEL, at=at, text=text,
                                     detail=json.dumps({"alert": alert_id, **detail}, ensure_ascii=False)))
