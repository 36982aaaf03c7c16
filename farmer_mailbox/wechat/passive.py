"""Passive replies: answer WeChat's push with the reply itself when it is ready within the budget.

The message is already committed (write before acknowledging). Then, within `budget` seconds of
the push's arrival:

1. `process`: the inbox processes that message now (if nobody did yet); in the same transaction
   its WeChat replies to the sender are held (`due_at` = the end of the budget), so the dispatcher
   leaves them alone while the handler may still take one.
2. `claim`: in one transaction, the first waiting reply is taken exactly as the dispatcher takes a
   row (queued → sending → sent, gateway = the WeChat gateway, external id `passive:<inbound id>`,
   entered in the message record), and the other replies are released to the dispatcher. Its
   text becomes the HTTP answer.

Whoever claims a row first sends it, the dispatcher or the handler: a reply is never sent twice.
Too slow (processing or the database busy past the budget): the handler answers "success", does
not claim, and the held replies fall due at the end of the budget and go by the customer-service
API. A WeChat retry of the same push (our answer did not reach WeChat in time) gets the reply
that was claimed for it again; WeChat shows the user one answer per message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from farmer_mailbox import wording
from farmer_mailbox.clock import Clock
from farmer_mailbox.inbox import Inbox
from farmer_mailbox.store import Received, Store, Tx
from farmer_mailbox.store.sql_outbox import Outcome

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
CHANNEL = "wechat"   # a passive reply is a WeChat message: no SMS segments billed
T = TypeVar("T")


class PassiveReplies:
    """Turns an answer ready in time into a passive reply; keeps track of work left running."""

    def __init__(self, store: Store, inbox: Inbox, clock: Clock, gateway: str, budget: float,
                 wake_outbox: Callable[[], None]) -> None:
        self.store, self.inbox, self.clock = store, inbox, clock
        self.gateway, self.budget, self.wake_outbox = gateway, budget, wake_outbox
        self._running: set[asyncio.Future[Any]] = set()

    async def answer(self, inbound_id: int, openid: str, started: float) -> str | None:
        """The passive reply text for an inbound message, or None (answer "success" instead).

        `started` is the event-loop time the push arrived; the budget counts from it.
        """
        loop = asyncio.get_running_loop()
        left = max(0.0, started + self.budget - loop.time())
        hold_until = self.clock.now() + timedelta(seconds=left)
        work = self._track(self._process(inbound_id, openid, hold_until))
        try:
            await asyncio.wait_for(asyncio.shield(work), timeout=left)
        except TimeoutError:
            log.info("wechat: inbound %d not answered within %.1f s; the reply goes by the API", inbound_id,
                     self.budget)
            return None
        # Database work is never cancelled half-way: should this handler be cancelled, the claim still
        # completes, and WeChat's retry of the push is answered with the reply it claimed.
        return await asyncio.shield(self._track(self.claim(inbound_id, openid)))

    def _track(self, work: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        future = asyncio.ensure_future(work)
        self._running.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, work: asyncio.Future[Any]) -> None:
        self._running.discard(work)
        if not work.cancelled() and work.exception() is not None:
            log.error("wechat: passive-reply work failed", exc_info=work.exception())

    async def _process(self, inbound_id: int, openid: str, hold_until: datetime) -> None:
        async def hold(tx: Tx, msg: Received) -> None:
            await tx.hold_replies(msg.id, openid, hold_until)

        await self.inbox.process_ids([inbound_id], then=hold)

    async def claim(self, inbound_id: int, openid: str) -> str | None:
        """Take the first waiting WeChat reply to a message as its passive reply (or the one taken before)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            served = await tx.passive_served(self.gateway, inbound_id)
            if served:
                return wording.render(*served[0], CHANNEL)
            claimed = await tx.claim_passive(inbound_id, openid, now + LEASE)
            released = await tx.release_replies(inbound_id, openid, now)
            if claimed is not None:
                await tx.record_outcomes([Outcome(
                    claimed.id, "sent", now, gateway=self.gateway, external_id=f"passive:{inbound_id}", segments=0,
                    text=wording.render_for_record(claimed.template_key, claimed.params, CHANNEL),
                    channel=claimed.channel,
                    address=claimed.address, user_id=claimed.user_id)])
        if released:
            self.wake_outbox()
        return None if claimed is None else wording.render(claimed.template_key, claimed.params, CHANNEL)

    async def close(self) -> None:
        """Wait for processing still running for pushes already answered (at shutdown)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
