"""Write before acknowledging, resume after a crash: an inbound message committed by a process that
died before processing it is processed and answered when the service starts again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from farmer_mailbox import wording
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.demo import load_demo
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.services import open_services
from farmer_mailbox.store import NewRecord
from gateways import GatewaySettings
from gateways.memory import MemoryGateway
from tests.helpers import TEST_ENV, make_config

FARMER = "13900000011"


async def _commit_and_die(db_path: Path, clock: ManualClock, tree: RegionTree) -> None:
    """What the webhook did before the crash: the message committed (and acknowledged), nothing more."""
    services = await open_services(make_config(db_path), clock, TEST_ENV, tree=tree)
    try:
        await load_demo(services.accounts)
        async with services.store.transaction() as tx:
            await tx.record_inbound(NewRecord(kind="inbound", channel="sms", at=clock.now(), user_id=None,
                                              address=FARMER, text="帮助", gateway="mem", external_id="mo-1"))
        assert await services.store.count_pending_inbound() == 1
    finally:
        await services.close()          # the process is gone; no worker ever saw the message


async def test_a_message_committed_before_a_crash_is_answered_after_restart(
        db_path: Path, clock: ManualClock, region_tree: RegionTree) -> None:
    await _commit_and_die(db_path, clock, region_tree)
    async with httpx.AsyncClient() as client:
        sms = MemoryGateway(GatewaySettings("mem", "memory", {}), client)
        runtime = await Runtime.start(make_config(db_path), gateways={"mem": sms}, clock=clock, env=TEST_ENV,
                                      tree=region_tree)
        try:
            for _ in range(250):                                   # workers run in the background
                if sms.sent:
                    break
                await asyncio.sleep(0.02)
            assert [(s.to, s.text) for s in sms.sent] == [(FARMER, wording.render("help", {}))]
            assert await runtime.services.store.count_pending_inbound() == 0
            [reply] = await runtime.services.store.outbox_for_address(FARMER)
            assert reply.status == "sent" and reply.template_key == "help"
        finally:
            await runtime.stop()


async def test_a_duplicate_of_the_committed_message_is_not_answered_twice(
        db_path: Path, clock: ManualClock, region_tree: RegionTree) -> None:
    await _commit_and_die(db_path, clock, region_tree)
    async with httpx.AsyncClient() as client:
        sms = MemoryGateway(GatewaySettings("mem", "memory", {}), client)
        runtime = await Runtime.start(make_config(db_path), gateways={"mem": sms}, clock=clock, env=TEST_ENV,
                                      tree=region_tree, workers=False)
        try:
            again = sms.parse_inbound(sms.inbound_request(FARMER, "帮助", external_id="mo-1"))  # the provider retries
            assert await runtime.inbox.receive("mem", "sms", again) == []
            assert await runtime.inbox.drain() == 1
            await runtime.outbox.drain()
            assert len(sms.sent) == 1
        finally:
            await runtime.stop()


async def test_a_steady_stream_of_webhooks_does_not_starve_processing(
        db_path: Path, clock: ManualClock, region_tree: RegionTree) -> None:
    """Webhooks go first between processing transactions, but the processor still gets its turn
    while webhooks never stop arriving (the group commit then never runs dry)."""
    from gateways import InboundSms

    async with httpx.AsyncClient() as client:
        sms = MemoryGateway(GatewaySettings("mem", "memory", {}), client)
        runtime = await Runtime.start(make_config(db_path), gateways={"mem": sms}, clock=clock, env=TEST_ENV,
                                      tree=region_tree)
        stop = asyncio.Event()
        sent = 0

        async def provider(n: int) -> None:
            nonlocal sent
            while not stop.is_set():
                sent += 1
                await runtime.inbox.receive("mem", "sms", [InboundSms(f"137{n:04d}{sent:04d}", "帮助",
                                                                      f"flood-{n}-{sent}", clock.now())])

        try:
            await load_demo(runtime.services.accounts)
            providers = [asyncio.create_task(provider(n)) for n in range(16)]
            for _ in range(300):
                if runtime.inbox.processed >= 50:
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.gather(*providers)
            assert sent > 100, "the flood never got going"
            assert runtime.inbox.processed >= 50, f"{runtime.inbox.processed} processed while {sent} arrived"
        finally:
            await runtime.stop()
