"""The whole service behind a real Kannel: a farmer texts 帮助 and the help text comes back, delivered.

bearerbox + smsbox + fakesmsc run on loopback (tests/support/kannel.py); smsbox's get-url points at
the service's /hooks/kannel/inbound and every MT carries a dlr-url to /hooks/kannel/receipt. The
service is the real app (create_app: webhooks, inbox processor, outbox dispatcher) on a SQLite file
in demo mode, its kannel gateway built from config with its secrets from the environment. Nothing
is called directly: the phone's text goes in through Kannel and the answer comes out through it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from farmer_mailbox import wording
from farmer_mailbox.app import create_app
from farmer_mailbox.config import build_config
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.store import Store
from farmer_mailbox.store.sql_outbox import OutboxRow
from farmer_mailbox.web.keys import RUNTIME
from gateways.kannel import get_url_template
from tests.helpers import TEST_ENV
from tests.support.kannel import KannelStack, MtMessage, running_kannel

pytestmark = pytest.mark.kannel

TOKEN = "service-e2e-token"
FARMER = "13900000011"     # 杨德福, a demo farmer in 杨高村 (farmer_mailbox/demo.py)
STRANGER = "13700009999"   # nobody registered this phone


@dataclass
class Service:
    """The running service, the Kannel in front of it, and the service's own store."""

    kannel: KannelStack
    store: Store

    async def text(self, phone: str, message: str) -> MtMessage:
        """Send an MO from `phone` and return the one MT that comes back to it."""
        await self.kannel.send_mo(phone, message)
        [mt] = await self.kannel.wait_mt(1, timeout=10)
        return mt

    async def settled(self, phone: str, status: str, timeout: float = 10) -> OutboxRow:
        """The single outbox row to `phone` once it reaches `status`."""
        async with asyncio.timeout(timeout):
            while True:
                rows = await self.store.outbox_for_address(phone)
                if len(rows) == 1 and rows[0].status == status:
                    return rows[0]
                await asyncio.sleep(0.05)


def _listening_socket() -> socket.socket:
    """A bound loopback socket: its port goes into Kannel's get-url before the app exists."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def service(db_path: Path, region_tree: RegionTree) -> AsyncIterator[Service]:
    sock = _listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with running_kannel(get_url_template(f"{base}/hooks/kannel/inbound", TOKEN)) as kannel:
        config = build_config({
            "service": {"database": str(db_path), "demo": True, "public_url": base},
            "gateways": {"kannel": {
                "type": "kannel", "sendsms_url": kannel.sendsms_url, "username": kannel.username,
                "password_env": "KANNEL_PASSWORD", "webhook_token_env": "KANNEL_WEBHOOK_TOKEN",
                "dlr_url": f"{base}/hooks/kannel/receipt", "max_messages": kannel.max_messages,
            }},
            "routes": {"replies": ["kannel"], "matches": ["kannel"], "alerts": ["kannel"]},
            "alerts": {"pest_calendar": False},
        }, env={})
        env = {**TEST_ENV, "KANNEL_PASSWORD": kannel.password, "KANNEL_WEBHOOK_TOKEN": TOKEN}
        app = create_app(config, env=env, tree=region_tree)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            yield Service(kannel, app[RUNTIME].services.store)
        finally:
            await runner.cleanup()


async def test_a_farmer_texts_help_and_the_help_text_is_delivered(service: Service) -> None:
    mt = await service.text(FARMER, "帮助")

    help_text = wording.render("help", {})
    assert (mt.receiver, mt.sender) == (FARMER, service.kannel.global_sender)
    assert (mt.kind, mt.parts, mt.text) == ("ucs-2", 1, help_text)   # exact Chinese, UCS-2, one SMS
    row = await service.settled(FARMER, "delivered")                  # Kannel's DLR came back
    assert (row.purpose, row.template_key, row.gateway, row.attempts) == ("reply", "help", "kannel", 1)
    assert row.external_id == str(row.id) and row.user_id is not None and row.error is None
    record = await service.store.record_for_user(row.user_id)                # newest first
    assert [(e.kind, e.text, e.gateway) for e in record[:2]] == [
        ("outbound", help_text, "kannel"), ("inbound", "帮助", "kannel")]
    assert await service.store.count_pending_inbound() == 0


async def test_an_unregistered_phone_is_told_to_register(service: Service) -> None:
    mt = await service.text(STRANGER, "卖土鸡蛋300斤")

    assert (mt.receiver, mt.kind, mt.text) == (STRANGER, "ucs-2", wording.render("unregistered", {}))
    row = await service.settled(STRANGER, "delivered")
    assert (row.template_key, row.user_id) == ("unregistered", None)
    [inbound] = [e for e in await service.store.record_tail(50) if e.kind == "inbound"]
    assert (inbound.address, inbound.text, inbound.user_id) == (STRANGER, "卖土鸡蛋300斤", None)
