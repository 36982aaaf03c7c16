"""/api/postings through the whole app: a liaison's token, scope, states; and /healthz's market figures."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox.app import create_app
from farmer_mailbox.config import build_config
from farmer_mailbox.models import Channel
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.web.keys import RUNTIME
from gateways import InboundSms
from tests.market.conftest import CHEN, LIAISON, XU


async def test_a_liaison_moderates_postings_through_the_api(db_path: Path, region_tree: RegionTree) -> None:
    config = build_config({"service": {"database": str(db_path), "demo": True},
                           "gateways": {"mem": {"type": "memory"}},
                           "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]}}, env={})
    app = create_app(config, env={}, workers=False, tree=region_tree)
    async with TestClient(TestServer(app)) as client:
        runtime = app[RUNTIME]
        accounts = runtime.services.accounts
        operator = await accounts.actor_for(None, Channel.CLI)
        headers = {"Authorization": f"Bearer {await accounts.issue_token(operator, LIAISON)}"}
        sms = [InboundSms(XU, "卖葡萄苗5000株 联系13812345678", "a1", runtime.services.clock.now()),
               InboundSms(CHEN, "卖鸡蛋 www.example.com", "a2", runtime.services.clock.now())]
        await runtime.inbox.receive("mem", "sms", sms)
        await runtime.inbox.drain()

        assert (await client.get("/api/postings")).status == 401
        listed = await (await client.get("/api/postings", headers=headers)).json()
        assert [p["id"] for p in listed["postings"]] == [1]          # 子陵村 is another liaison point's
        assert listed["postings"][0]["hold_reason"] == "含其他电话号码"
        assert (await client.get("/api/postings?status=nonsense", headers=headers)).status == 400
        assert (await client.post("/api/postings/2/approve", headers=headers)).status == 403
        assert (await client.post("/api/postings/99/approve", headers=headers)).status == 404
        approved = await client.post("/api/postings/1/approve", headers=headers)
        assert approved.status == 200 and (await approved.json())["status"] == "open"
        assert (await client.post("/api/postings/1/approve", headers=headers)).status == 409
        hidden = await client.post("/api/postings/1/hide", json={"reason": "重复发布"}, headers=headers)
        assert hidden.status == 200 and (await hidden.json())["status"] == "hidden"

        health = await (await client.get("/healthz")).json()
        assert health["status"] == "ok" and health["market"] == {"open_postings_indexed": 0}
