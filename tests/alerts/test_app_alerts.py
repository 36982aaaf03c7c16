"""The whole app: bearer token, /api/alerts, the Runtime's scheduler fanning out, the outbox sending;
a scheduled alert survives restarts of the app (and a crash mid fan-out) and goes out once.

Needs farmer_mailbox.text (the text-understanding branch), which the app imports through the
inbox; until it is merged this module is skipped, then it runs as is.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.alerts.model import Status
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import Config, build_config
from farmer_mailbox.models import Channel
from farmer_mailbox.regions import RegionTree
from gateways import GatewaySettings
from gateways.memory import MemoryGateway
from tests.helpers import TEST_ENV, valid_id

pytest.importorskip("farmer_mailbox.text", reason="the app imports farmer_mailbox.text (text branch, not merged)")
from farmer_mailbox.app import create_app
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.web.keys import RUNTIME

SH = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2026, 7, 7, 20, 30, tzinfo=SH)
SEVEN = datetime(2026, 7, 8, 7, 0, tzinfo=SH)
PEST = {"kind": "pest", "regions": ["龙山镇"], "crops": ["水稻"], "send_at": "07:00",
        "params": {"crop": "水稻", "pest": "稻飞虱", "stage": "已达防治高峰", "when": "7月10日",
                   "advice": "选用吡蚜酮等药剂对准稻丛基部喷雾"}}

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


# --- restarts: APScheduler on the loop, the durable state in the database ----------------------

def restart_config(db: Path) -> Config:
    """The app on `db`, its fan-out job firing every 50 ms, two user ids per fan-out transaction."""
    return build_config({"service": {"database": str(db)}, "gateways": {"mem": {"type": "memory"}},
                         "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
                         "alerts": {"due_check_seconds": 0.05, "fanout_chunk": 2}}, env={})


@asynccontextmanager
async def app_running(db: Path, tree: RegionTree, clock: ManualClock) -> AsyncIterator[tuple[TestClient[Any, Any],
                                                                                            Runtime, MemoryGateway]]:
    """The whole app serving on `db` (the Runtime, its dispatcher and APScheduler), stopped on exit."""
    async with httpx.AsyncClient() as http:
        gateway = MemoryGateway(GatewaySettings("mem", "memory", {}), http)
        app = create_app(restart_config(db), gateways={"mem": gateway}, clock=clock, env=TEST_ENV, tree=tree)
        async with TestClient(TestServer(app)) as client:
            yield client, app[RUNTIME], gateway


async def until(check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    """Wait (in real time: the scheduler fires on the loop) until `check()` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


def rows_of(db: Path, alert_id: int) -> tuple[int, int]:
    """Outbox rows of an alert, and distinct recipients among them (read straight from the file)."""
    conn = sqlite3.connect(db)
    try:
        total, users = conn.execute("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM outbox WHERE alert_id = ?",
                                    (alert_id,)).fetchone()
        return int(total), int(users)
    finally:
        conn.close()


def fanout_runs(runtime: Runtime) -> int:
    return int(str(runtime.alerts.scheduler.status()["fanout"]["runs"]))


async def schedule_for_seven(db: Path, tree: RegionTree) -> tuple[int, list[str]]:
    """First run of the app, the evening before: register a rice farmer population and, through the
    API, schedule the planthopper alert for 07:00; the scheduler fires but nothing is enqueued."""
    async with app_running(db, tree, ManualClock(EVENING)) as (client, runtime, gateway):
        accounts = runtime.services.accounts
        operator = await accounts.actor_for(None, Channel.CLI)
        await accounts.register(operator, RegistrationForm("李明", valid_id(serial=1), "13900000002",
                                                           "330282114201", "officer", county="330282"))
        phones = []
        for n, village in enumerate(["330282123222", "330282123201"] * 2 + ["330282123222"], start=10):
            user = await accounts.register(operator, RegistrationForm(
                "徐国庆", valid_id(serial=n), f"139000000{n}", village, interests=("水稻",)))
            phones.append(user.phone)
        headers = {"Authorization": f"Bearer {await accounts.issue_token(operator, '13900000002')}"}
        response = await client.post("/api/alerts", json=PEST, headers=headers)
        created = (await response.json())["alert"]
        assert response.status == 201 and created["status"] == "scheduled"
        assert created["send_at"] == "2026-07-08T07:00+08:00" and created["recipients"] == 5
        fired = fanout_runs(runtime)
        await until(lambda: fanout_runs(runtime) >= fired + 3, "the fan-out job fired three more times")
        assert rows_of(db, created["id"]) == (0, 0) and gateway.sent == []
    return int(created["id"]), phones


async def test_a_scheduled_alert_survives_an_app_restart_and_goes_out_once(
        tmp_path: Path, region_db_template: Path, region_tree: RegionTree) -> None:
    db = tmp_path / "app.db"
    shutil.copy(region_db_template, db)
    alert_id, phones = await schedule_for_seven(db, region_tree)       # then the app stops overnight
    async with app_running(db, region_tree, ManualClock(SEVEN + timedelta(minutes=1))) as (_, runtime, gateway):
        store = runtime.services.store

        async def sent() -> bool:
            alert = await store.get_alert(alert_id)
            return alert is not None and alert.status is Status.SENT

        await until(sent, "the alert was sent")
        fired = fanout_runs(runtime)
        await until(lambda: fanout_runs(runtime) >= fired + 3, "the job fired again after the alert went out")
    assert rows_of(db, alert_id) == (5, 5)
    assert sorted(s.to for s in gateway.sent) == sorted(phones)


async def test_a_crash_mid_fan_out_then_restarts_still_send_each_copy_once(
        tmp_path: Path, region_db_template: Path, region_tree: RegionTree) -> None:
    db = tmp_path / "app.db"
    shutil.copy(region_db_template, db)
    alert_id, phones = await schedule_for_seven(db, region_tree)
    # At 07:00 the disk fails under the second fan-out transaction (user ids 3-4: a farmer in it),
    # and goes on failing: the job fires again and again, each time from the durable cursor.
    conn = sqlite3.connect(db)
    conn.execute("CREATE TRIGGER disk_fails BEFORE INSERT ON outbox WHEN NEW.idem_key = 'alert:' || "
                 f"{alert_id} || ':4' BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END")
    conn.close()
    clock = ManualClock(SEVEN)
    async with app_running(db, region_tree, clock) as (_, runtime, first_gateway):
        await until(lambda: int(str(runtime.alerts.scheduler.status()["fanout"]["failures"])) >= 3,
                    "the fan-out job failed three times")
        await until(lambda: len(first_gateway.sent) == 1, "the first chunk's copy was sent")
        assert rows_of(db, alert_id) == (1, 1)           # user 2: chunk (0, 2]; chunk (2, 4] rolled back
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER disk_fails")               # the disk is replaced; the service restarts
    conn.close()
    clock.advance(timedelta(minutes=5))
    async with app_running(db, region_tree, clock) as (_, runtime, gateway):
        for _ in range(3):                                # firings on top of APScheduler's own
            runtime.alerts.scheduler.kick("fanout")
        await asyncio.gather(runtime.alerts.fanout.tick(), runtime.alerts.fanout.tick())   # and two at once
        await until(lambda: len(gateway.sent) == 4, "the other four copies were sent")
        fired = fanout_runs(runtime)
        await until(lambda: fanout_runs(runtime) >= fired + 3, "the job fired again after the fan-out")
        alert = await runtime.services.store.get_alert(alert_id)
        assert alert is not None and alert.recipients == 5
    assert rows_of(db, alert_id) == (5, 5)
    assert sorted(s.to for s in [*first_gateway.sent, *gateway.sent]) == sorted(phones)
