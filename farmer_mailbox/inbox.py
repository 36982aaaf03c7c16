"""Inbound messages: committed before the webhook answers, processed after, resumed after a crash.

`receive` stores what a gateway parsed (deduplicated on gateway + provider id) and appends it to
the message record; the processor then takes pending messages in arrival order, a batch per
transaction, each message in its own savepoint: the conversation's writes and the replies it
queues commit together, or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from farmer_mailbox.conversation import Conversation
from farmer_mailbox.store import NewRecord, Received, Tx
from farmer_mailbox.workers import wait_for_work
from gateways import InboundSms

if TYPE_CHECKING:
    from farmer_mailbox.outbox import Outbox
    from farmer_mailbox.services import Services

log = logging.getLogger(__name__)
BATCH = 200
AfterHook = Callable[[Tx, Received], Awaitable[None]]


class Inbox:
    """Receives inbound messages and runs them through the conversation."""

    def __init__(self, services: Services, outbox: Outbox, conversation: Conversation | None = None) -> None:
        self.services = services
        self.outbox = outbox
        self.conversation = conversation or Conversation(services, outbox)
        self._wake = asyncio.Event()
        self.processed = 0

    def wake(self) -> None:
        """Tell an idle processor there is work."""
        self._wake.set()

    async def receive(self, gateway: str, channel: str, items: Sequence[InboundSms], *,
                      wake: bool = True) -> list[int]:
        """Commit inbound messages (duplicates skipped) and wake the processor; return new ids.

        `wake=False` when the caller processes them itself (`process_ids`); the processor's poll
        still picks them up should the caller not get to it.
        """
        now = self.services.clock.now()
        new_ids: list[int] = []
        async with self.services.store.transaction() as tx:
            for item in items:
                user_id = await self.conversation.sender_user_id(tx, channel, item.sender)
                inbound_id = await tx.record_inbound(
                    NewRecord(kind="inbound", channel=channel, at=item.received_at or now, user_id=user_id,
                              address=item.sender, text=item.text, gateway=gateway,
                              external_id=item.external_id, detail=item.event),
                    recipient=item.recipient, event=item.event,
                )
                if inbound_id is not None:
                    new_ids.append(inbound_id)
        if new_ids and wake:
            self.wake()
        return new_ids

    async def _process_one(self, tx: Tx, msg: Received) -> None:
        await tx.savepoint("msg")
        try:
            await self.conversation.handle(tx, msg)
            await tx.finish_inbound(msg.id, ok=True)
            await tx.release("msg")
        except Exception as exc:
            log.exception("inbound %d from %s failed", msg.id, msg.sender)
            await tx.rollback_to("msg")
            await tx.finish_inbound(msg.id, ok=False, error=f"{type(exc).__name__}: {exc}")

    async def process_pending(self, limit: int = BATCH) -> int:
        """Process up to `limit` pending messages in one transaction; return how many."""
        if not await self.services.store.pending_inbound(1):   # a cheap look before taking the writer
            return 0
        async with self.services.store.transaction() as tx:
            # read again as the writer: a message processed meanwhile (process_ids) is not pending
            pending = await tx.pending_inbound(limit)
            for msg in pending:
                await self._process_one(tx, msg)
        self.processed += len(pending)
        self.outbox.wake()
        return len(pending)

    async def process_ids(self, ids: Sequence[int], then: AfterHook | None = None) -> int:
        """Process these messages now if still pending (a webhook waiting for the answer); `then`
        runs after each, in the same transaction. Return how many were processed here."""
        async with self.services.store.transaction() as tx:
            pending = await tx.pending_inbound_among(ids)
            for msg in pending:
                await self._process_one(tx, msg)
                if then is not None:
                    await then(tx, msg)
        self.processed += len(pending)
        self.outbox.wake()
        return len(pending)

    async def drain(self) -> int:
        """Process until nothing is pending (tests and replays); return how many."""
        total = 0
        while handled := await self.process_pending():
            total += handled
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Process pending messages until `stop` is set (resumes what a crash left)."""
        while not stop.is_set():
            try:
                if await self.process_pending():
                    continue
            except Exception:
                log.exception("inbox round failed; retrying")
            await wait_for_work(self._wake, stop, 1.0)
