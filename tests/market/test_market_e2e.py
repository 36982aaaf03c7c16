"""End to end: two farmers trade through the running service, by real Kannel + fakesmsc and by the
`http` gateway: a sell and a buy notice, both sides get match SMS, the buyer asks for contact, the
seller consents, both get the other's number."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from farmer_mailbox.app import LISTEN_BACKLOG, create_app
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.web.keys import RUNTIME
from gateways import WebhookRequest
from gateways.kannel import get_url_template
from tests.market.conftest import CHEN, YANG
from tests.support.callbacks import CallbackServer
from tests.support.kannel import running_kannel

TOKEN = "market-e2e-token"
DAYTIME = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)    # 10:00 in 慈溪: no quiet hours in the way


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(db_path: Path, port: int, gateway: dict[str, Any]) -> AsyncIterator[web.Application]:
    """The whole service (workers on) on 127.0.0.1:port with one gateway for every purpose."""
    config = build_config({
        "service": {"database": str(db_path), "demo": True, "public_url": f"http://127.0.0.1:{port}"},
        "gateways": {"gw": gateway},
        "routes": {"replies": ["gw"], "matches": ["gw"], "alerts": ["gw"]},
    }, env={})
    app = create_app(config, clock=ManualClock(DAYTIME), env={})
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=LISTEN_BACKLOG).start()
    try:
        yield app
    finally:
        await runner.cleanup()


Phone = Callable[[str, str], Awaitable[None]]
Await = Callable[[int], Awaitable[list[tuple[str, str]]]]


async def trade(send: Phone, wait: Await) -> dict[str, list[str]]:
    """The issue's story; returns what each phone received."""
    got: dict[str, list[str]] = {YANG: [], CHEN: []}

    async def step(phone: str, text: str, expect: int) -> None:
        await send(phone, text)
        for to, body in await wait(expect):
            got.setdefault(to, []).append(body)

    await step(CHEN, "卖葡萄苗5000株 每株3元", 1)
    await step(YANG, "求购优质葡萄苗2000株", 2)
    await step(YANG, "LX1", 2)
    await step(CHEN, "Y", 2)
    return got


def check(got: dict[str, list[str]]) -> None:
    assert got[CHEN][0].startswith("出售葡萄苗5000株3元/株已登记(编号1)")
    assert "匹配1条:1.横河镇子陵村 葡萄苗5000株3元/株" in got[YANG][0]
    assert got[CHEN][1] == "有人求购葡萄苗2000株(龙山镇杨高村),回LX1取联系方式,回HF1+内容留言。"
    assert got[CHEN][2].startswith("有人想联系您(求购葡萄苗2000株")
    assert all(YANG not in text for text in got[CHEN][:3]) and all(CHEN not in text for text in got[YANG][:2])
    assert f"陈阿毛(横河镇子陵村)电话{CHEN}" in got[YANG][2]
    assert f"杨德福(龙山镇杨高村)电话{YANG}" in got[CHEN][3]


@pytest.mark.kannel
async def test_two_farmers_trade_through_kannel(db_path: Path) -> None:
    port = _free_port()
    mo_url = get_url_template(f"http://127.0.0.1:{port}/hooks/gw/inbound", TOKEN)
    async with running_kannel(mo_url) as kannel:
        gateway = {"type": "kannel", "sendsms_url": kannel.sendsms_url, "username": kannel.username,
                   "password": kannel.password, "dlr_url": f"http://127.0.0.1:{port}/hooks/gw/receipt",
                   "webhook_token": TOKEN, "max_messages": kannel.max_messages}
        async with serving(db_path, port, gateway) as app:
            async def send(phone: str, text: str) -> None:
                await kannel.send_mo(phone, text)

            async def wait(count: int) -> list[tuple[str, str]]:
                return [(mt.receiver, mt.text) for mt in await kannel.wait_mt(count, timeout=15)]

            check(await trade(send, wait))
            store = app[RUNTIME].services.store
            for _ in range(200):           # fakesmsc acknowledges: delivery reports come back
                if (await store.outbox_status_counts()).get("delivered", 0) == 7:
                    break
                await asyncio.sleep(0.05)
            assert (await store.outbox_status_counts()).get("delivered") == 7


async def test_two_farmers_trade_through_the_http_gateway(db_path: Path) -> None:
    port = _free_port()
    arrived: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def provider(request: WebhookRequest) -> tuple[int, str, bytes]:   # the aggregator: takes each MT
        body = json.loads(request.body)
        await arrived.put((body["mobile"], body["content"]))
        return 200, "application/json", json.dumps({"code": "0", "msgid": f"m{arrived.qsize()}"}).encode()

    async with CallbackServer(provider) as aggregator:
        gateway = {"type": "http", "send_url": aggregator.url("/sms/send"), "format": "json",
                   "fields": {"to": "mobile", "text": "content"}, "success_field": "code", "success_value": "0",
                   "id_path": "msgid", "webhook_token": TOKEN}
        async with serving(db_path, port, gateway), httpx.AsyncClient() as client:
            serial = iter(range(1, 100))

            async def send(phone: str, text: str) -> None:
                answer = await client.post(f"http://127.0.0.1:{port}/hooks/gw/inbound?token={TOKEN}",
                                           json={"from": phone, "text": text, "id": f"mo{next(serial)}"})
                assert answer.status_code == 200

            async def wait(count: int) -> list[tuple[str, str]]:
                return [await asyncio.wait_for(arrived.get(), 10) for _ in range(count)]

            check(await trade(send, wait))
