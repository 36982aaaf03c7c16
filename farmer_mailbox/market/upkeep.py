"""Market housekeeping, run every minute: reminders before expiry, expiry, the evening digest of
match notices folded by the daily cap, and picking up posting changes made by other processes.

Every message it queues has a key that names its cause (the posting and its expiry, the user and
the day), so running it twice, or on two machines, queues nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from farmer_mailbox.clock import to_db
from farmer_mailbox.market.core import Market, described
from farmer_mailbox.market.texts import what
from farmer_mailbox.outbox import Message
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


def _digest_time(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


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
    """After the digest time, tell each user how many match notices the cap folded today."""
    local = now.astimezone(market.zone)
    if local.time() < _digest_time(market.cfg.digest_time):
        return 0
    day = local.date().isoformat()
    folded = await market.services.store.folded_notices(day)
    messages = []
    for user_id, count in folded:
        user = await market.active_user(market.services.store, user_id)
        if user is not None:
            messages.append(Message(idem_key=f"digest:{user_id}:{day}", purpose="match", address=user.phone,
                                    user_id=user_id, template_key="match_digest", params={"count": str(count)}))
    if not messages:
        return 0
    async with market.services.store.transaction() as tx:
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
