"""Market housekeeping, run every minute: reminders before expiry, expiry, the digest of match
notices folded by the caps, and picking up posting changes made by other processes.

Digest. Each day at `digest_time` (local) a user with folded notices not yet reported gets one
digest counting all of them; notices folded later wait for the next day's digest. A digest the
service missed (it was down at digest time) goes out the next time housekeeping runs outside
quiet hours, and then still counts everything not yet reported. At most one digest per user per
day; every folded notice is reported exactly once.

Every message it queues has a key that names its cause (the posting and its expiry, the user and
the digest's day), so running it twice, or on two machines, queues nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from farmer_mailbox.clock import to_db
from farmer_mailbox.market.core import Market, described
from farmer_mailbox.market.texts import what
from farmer_mailbox.outbox import Message
from farmer_mailbox.outbox_policy import QuietHours, parse_hhmm
from farmer_mailbox.store import NewRecord
from farmer_mailbox.workers import wait_for_work

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpkeepResult:
    """What one round did."""

    reminded: int = 0
    expired: int = 0
    digests: int = 0
    synced: int = 0


def digest_day(local: datetime, digest_time: time) -> date:
    """The day of the latest digest due at a local time: today from digest time on, else yesterday."""
    return local.date() if local.time() >= digest_time else local.date() - timedelta(days=1)


async def remind(market: Market, now: datetime) -> int:
    """Tell posters whose postings expire within `reminder_days` how to renew; return how many."""
    rows = await market.services.store.due_reminders(now + timedelta(days=market.cfg.reminder_days))
    if not rows:
        return 0
    messages = []
    async with market.services.store.transaction() as tx:
        for row in rows:
            await tx.mark_reminded(row.id, now)
            user = await market.active_user(tx, row.user_id)
            if user is None:
                continue
            messages.append(Message(
                idem_key=f"remind:{row.id}:{to_db(row.expires_at)}", purpose="match", address=user.phone,
                user_id=user.id, template_key="expiry_reminder",
                params={"what": what(described(row)), "id": str(row.id), "date": market.date_text(row.expires_at),
                        "days": str(market.cfg.posting_days)},
                expires_at=row.expires_at))
        await market.outbox.enqueue(tx, messages)
    return len(rows)


async def expire(market: Market, now: datetime) -> int:
    """Close postings whose time is up and take them out of the book; return how many."""
    rows = await market.services.store.due_expiry(now)
    if not rows:
        return 0
    async with market.services.store.transaction() as tx:
        for row in rows:
            await tx.set_posting_status(row.id, "expired", now)
        await tx.append_record(NewRecord(kind="event", channel="system", at=now, user_id=None,
                                         text="postings_expired", detail=",".join(str(r.id) for r in rows)))
    for row in rows:
        market.book.index.remove(row.id)
    return len(rows)


async def digest(market: Market, now: datetime) -> int:
    """Queue the digest due (today's after digest time, or a missed one) to every user with unreported folds."""
    outbox_cfg = market.services.config.outbox
    quiet = QuietHours(parse_hhmm(outbox_cfg.quiet_start), parse_hhmm(outbox_cfg.quiet_end), market.zone)
    if quiet.contains(now):
        return 0   # a missed digest waits for the morning
    day = digest_day(now.astimezone(market.zone), parse_hhmm(market.cfg.digest_time)).isoformat()
    if not await market.services.store.folds_due(day):
        return 0
    async with market.services.store.transaction() as tx:
        messages = []
        for user_id, count in await tx.digest_folds(day):
            user = await market.active_user(tx, user_id)
            if user is not None:
                messages.append(Message(idem_key=f"digest:{user_id}:{day}", purpose="match", address=user.phone,
                                        user_id=user_id, template_key="match_digest", params={"count": str(count)}))
        return await market.outbox.enqueue(tx, messages)


async def upkeep(market: Market) -> UpkeepResult:
    """One round of housekeeping."""
    now = market.now()
    synced = await market.book.sync(market.services.store)
    result = UpkeepResult(reminded=await remind(market, now), expired=await expire(market, now),
                          digests=await digest(market, now), synced=synced)
    if result.reminded or result.digests:
        market.outbox.wake()
    return result


async def run(market: Market, stop: asyncio.Event, every: float = 60.0) -> None:
    """Housekeeping until `stop` is set."""
    while not stop.is_set():
        try:
            await upkeep(market)
        except Exception:
            log.exception("market housekeeping failed; retrying")
        await wait_for_work(asyncio.Event(), stop, every)
