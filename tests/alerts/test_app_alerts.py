"""The whole app: bearer token, /api/alerts, the Runtime's scheduler fanning out, the outbox sending.

Needs farmer_mailbox.text (the text-understanding branch), which the app imports through the
inbox; until it is merged this module is skipped, then it runs as is.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.models import Channel
from gateways import GatewaySettings
from gateways.memory import MemoryGateway
from tests.helpers import TEST_ENV, valid_id

pytest.importorskip("farmer_mailbox.text", reason="the app imports farmer_mailbox.text (text branch, not merged)")
from farmer_mailbox.app import create_app
from farmer_mailbox.web.keys import RUNTIME

# staff_auth (web/api.py) stores the actor under a plain-string request key, which aiohttp 3.14 warns


async def test_a_red_warning_through_the_api_goes_out_at_once(tmp_path: Path) -> None:
    config = build_config({"service": {"database": str(tmp_path / "app.db")}, "gateways": {"mem": {"type": "memory"}},
                           "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
                           "alerts": {"due_check_seconds": 3600}}, env={})
    async with httpx.AsyncClient() as http:
        gateway = MemoryGateway(GatewaySettings("mem", "memory", {}), http)
        clock = ManualClock(datetime(2026, 7, 8, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai")))   # night
        app = create_app(config, gateways={"mem": gateway}, clock=clock, env=TEST_ENV)
        async with TestClient(TestServer(app)) as client:
            runtime = app[RUNTIME]
            accounts = runtime.services.accounts
            operator = await accounts.actor_for(None, Channel.CLI)
            await accounts.register(operator, RegistrationForm("李明", valid_id(serial=1), "13900000002",
                                                               "330282114201", "officer", county="330282"))
            await accounts.register(operator, RegistrationForm("徐国庆", valid_id(serial=2), "13900000014",
                                                               "330282123201"))
            headers = {"Authorization": f"Bearer {await accounts.issue_token(operator, '13900000002')}"}
            body = {"kind": "weather", "severity": "red", "regions": ["龙山镇"],
                    "params": {"sender": "慈溪市气象台", "event": "暴雨", "colour": "红色",
                               "detail": "请立即转移低洼地带人员。"}}
            response = await client.post("/api/alerts", json=body, headers=headers)
            assert response.status == 201
            alert_id = (await response.json())["alert"]["id"]
            for _ in range(100):        # the scheduler was kicked at creation; the dispatcher is running
                progress = await (await client.get(f"/api/alerts/{alert_id}/progress", headers=headers)).json()
                if progress["sent"]:
                    break
                await asyncio.sleep(0.05)
            assert progress["sent"] == 1 and [s.to for s in gateway.sent] == ["13900000014"]
            assert runtime.alerts.scheduler.names[0] == "fanout"
