"""Inbound messages: committed before the webhook answers, processed after, resumed after a crash.

`receive` stores what a gateway parsed (deduplicated on gateway + provider id) and appends it to
the message record; the processor then takes pending messages in arrival order, a batch per
transaction, each message in its own savepoint: the conversation's writes and the replies it
queues commit together, or not at all.

This is the one boundary every channel's messages cross (SMS webhooks, WeChat, replays), so two
things happen here, before anything is stored or looked up: an SMS sender is brought to its 11
digits (+86, 0086, 86 prefixes), and ID numbers in the text are masked, the numbers themselves
kept sealed with the ID key until processing (a liaison's 注册 needs the real one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from farmer_mailbox.conversation import Conversation, Prepared
from farmer_mailbox.models import Channel, User
from farmer_mailbox.privacy import redact_ids, unmask_id
from farmer_mailbox.store import NewRecord, Received, Tx
from farmer_mailbox.validation import sms_address
from farmer_mailbox.workers import wait_for_work
from gateways import InboundSms

if TYPE_CHECKING:
    from farmer_mailbox.outbox import Outbox
    from farmer_mailbox.services import Services

log = logging.getLogger(__name__)
BATCH = 200
Work = tuple[Received, Prepared | None]
# Seconds of work per inbox transaction before the writer is let go. Every COMMIT writes each page
# the transaction dirtied (a message touches some 20 B-trees), so longer transactions write far
# fewer pages per message: 0.2 s processed about a fifth more messages per second than 0.05 s in
# bench_pipeline, at the price of webhooks waiting up to that long for the writer (ack p99 ~0.4 s).
TX_BUDGET = 0.2
WEBHOOK_WAIT = 0.05   # seconds the processor waits, between transactions, for the webhooks' group commit
PREPARE_SLICE = 16   # messages read between two looks at the webhooks (reading 200 at once holds the loop)
AfterHook = Callable[[Tx, Received], Awaitable[None]]


@dataclass
class _Arrival:
    """One webhook's messages waiting for the next group commit."""

    gateway: str
    channel: str
    items: list[InboundSms]
    done: asyncio.Future[list[int]]


class Inbox:
    """Receives inbound messages and runs them through the conversation."""

    def __init__(self, services: Services, outbox: Outbox, conversation: Conversation | None = None) -> None:
        self.services = services
        self.outbox = outbox
        self.conversation = conversation or Conversation(services, outbox)
        self._wake = asyncio.Event()
        self._arrivals: list[_Arrival] = []
        self._flusher: asyncio.Task[None] | None = None
        self.processed = 0

    def wake(self) -> None:
        """Tell an idle processor there is work."""
        self._wake.set()

    async def receive(self, gateway: str, channel: str, items: Sequence[InboundSms], *,
                      wake: bool = True) -> list[int]:
        """Commit inbound messages (duplicates skipped) and wake the processor; return new ids.

        Webhooks arriving together are committed together (group commit): the first starts a
        flush, the others join the next one, each gets its ids once its group is committed, so
        nothing is acknowledged before it is on disk. `wake=False` when the caller processes them
        itself (`process_ids`); the processor's poll still picks them up should it not get to it.
        """
        arrival = _Arrival(gateway, channel, list(items), asyncio.get_running_loop().create_future())
        self._arrivals.append(arrival)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="inbox-receive")
        new_ids = await asyncio.shield(arrival.done)
        if new_ids and wake:
            self.wake()
        return new_ids

    async def _flush(self) -> None:
        """Commit every waiting arrival, a group per transaction, each in its own savepoint."""
        while self._arrivals:
            group, self._arrivals = self._arrivals, []
            results: list[tuple[_Arrival, list[int] | BaseException]] = []
            try:
                async with self.services.store.transaction() as tx:
                    for arrival in group:
                        results.append((arrival, await self._record(tx, arrival)))
            except BaseException as exc:  # the commit itself failed: nobody's messages are stored
                for arrival in group:
                    if not arrival.done.done():
                        arrival.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for arrival, outcome in results:
                if isinstance(outcome, BaseException):
                    arrival.done.set_exception(outcome)
                else:
                    arrival.done.set_result(outcome)

    async def _record(self, tx: Tx, arrival: _Arrival) -> list[int] | BaseException:
        """Store one webhook's messages; an error undoes that webhook's part only."""
        now = self.services.clock.now()
        new_ids: list[int] = []
        await tx.savepoint("arrival")
        try:
            for item in arrival.items:
                sender = sms_address(item.sender) if arrival.channel == Channel.SMS.value else item.sender
                user_id = await self.conversation.sender_user_id(tx, arrival.channel, sender)
                redacted = redact_ids(item.text)
                sealed = self.services.vault.seal_list(redacted.ids) if redacted.ids else None
                inbound_id = await tx.record_inbound(
                    NewRecord(kind="inbound", channel=arrival.channel, at=item.received_at or now, user_id=user_id,
                              address=sender, text=redacted.text, gateway=arrival.gateway,
                              external_id=item.external_id, detail=item.event),
                    recipient=item.recipient, event=item.event, ids_sealed=sealed,
                )
                if inbound_id is not None:
                    new_ids.append(inbound_id)
        except Exception as exc:
            log.exception("inbound from %s could not be stored", arrival.gateway)
            await tx.rollback_to("arrival")
            return exc
        await tx.release("arrival")
        return new_ids

    async def _process_one(self, tx: Tx, msg: Received, prepared: Prepared | None) -> None:
        await tx.savepoint("msg")
        try:
            if prepared is None:
                raise RuntimeError("the message could not be read")
            await self.conversation.handle(tx, msg, prepared)
            await tx.finish_inbound(msg.id, ok=True)
            await tx.release("msg")
            self.conversation.settle(committed=True)
        except Exception as exc:
            log.exception("inbound %d from %s failed", msg.id, msg.sender)
            self.conversation.settle(committed=False)
            await tx.rollback_to("msg")
            await tx.finish_inbound(msg.id, ok=False, error=f"{type(exc).__name__}: {exc}")

    async def _prepare_all(self, msgs: Sequence[Received]) -> list[Prepared | None]:
        """Read each message (its sender looked up with the others' in one query)."""
        try:
            known = await self.conversation.senders(self.services.store, msgs)
        except Exception:
            log.exception("senders of %d inbound messages could not be looked up together", len(msgs))
            known = {}
        prepared = []
        for n, msg in enumerate(msgs, 1):
            prepared.append(await self._prepare(msg, known))
            if n % PREPARE_SLICE == 0:
                await asyncio.sleep(0)   # let webhooks that arrived meanwhile be read and committed
        return prepared

    async def _let_webhooks_in(self) -> None:
        """Between two processing transactions: webhooks first.

        The writer lock alone does not do it: statements run inline, so while the processor has
        work it takes the free lock again without ever yielding, and webhooks that arrived are
        not even read. Yield once (they are read and start their group commit), then wait for
        that commit: their providers are waiting for the answer, the processor is not. The
        wait is capped at WEBHOOK_WAIT: under a steady stream of webhooks the flusher never ends,
        and the processor must still get its turn.
        """
        await asyncio.sleep(0)
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            await asyncio.wait([flusher], timeout=WEBHOOK_WAIT)

    async def _prepare(self, msg: Received, known: Mapping[tuple[str, str], User | None]) -> Prepared | None:
        try:
            return self._unseal(msg, await self.conversation.prepare(msg, known))
        except Exception:
            log.exception("inbound %d from %s could not be read", msg.id, msg.sender)
            return None

    def _unseal(self, msg: Received, prepared: Prepared) -> Prepared:
        """Give 注册 the real ID number its masked argument stands for (nothing else gets it)."""
        command = prepared.result.command
        if msg.ids_sealed is None or command is None or command.name != "register":
            return prepared
        ids = self.services.vault.open_list(msg.ids_sealed)
        args = tuple(unmask_id(arg, ids) for arg in command.args)
        return replace(prepared, result=replace(prepared.result, command=replace(command, args=args)))

    async def process_pending(self, limit: int = BATCH) -> int:
        """Process up to `limit` pending messages; return how many.

        Messages are read (parsed, forecasts fetched) before any transaction opens, so the
        single writer is held only for the writes, and in short transactions.
        """
        pending = await self.services.store.pending_inbound(limit)
        if not pending:
            return 0
        work = list(zip(pending, await self._prepare_all(pending), strict=True))
        while work:
            work = await self._process_some(work)
        self.processed += len(pending)
        self.outbox.wake()
        return len(pending)

    async def _process_some(self, work: list[Work], then: AfterHook | None = None) -> list[Work]:
        """Process messages in one transaction until TX_BUDGET seconds pass; return the rest.

        Short transactions let webhooks (which need the single writer to commit what they
        receive) get in between, so providers get their answer in milliseconds, not seconds:
        after each transaction the loop reads what arrived meanwhile and waits for its commit.
        A message processed meanwhile by someone else (`process_ids`) is skipped: what is
        pending is read again as the writer. `then` runs after each message, in the same
        transaction.
        """
        started = time.monotonic()
        done = 0
        try:
            async with self.services.store.transaction() as tx:
                still = await tx.pending_inbound_ids([m.id for m, _ in work])
                for msg, ready in work:
                    done += 1
                    if msg.id not in still:
                        continue
                    await self._process_one(tx, msg, ready)
                    if then is not None:
                        await then(tx, msg)
                    if time.monotonic() - started > TX_BUDGET:
                        break
        except BaseException:
            await self.conversation.recover()  # settled index changes may not have been committed
            raise
        await self._let_webhooks_in()
        return work[done:]

    async def process_ids(self, ids: Sequence[int], then: AfterHook | None = None) -> int:
        """Process these messages now if still pending (a webhook waiting for the answer); `then`
        runs after each, in the same transaction. Return how many were processed here."""
        pending = await self.services.store.pending_inbound_among(ids)
        work = list(zip(pending, await self._prepare_all(pending), strict=True))
        while work:
            work = await self._process_some(work, then)
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
