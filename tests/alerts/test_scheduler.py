"""Jobs: single-flight, failures contained, stop waits; alerts survive a restart and go out once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from farmer_mailbox.alerts.fanout import Fanout
from farmer_mailbox.alerts.model import Status
from farmer_mailbox.alerts.scheduler import AlertScheduler, daily_at, every
from farmer_mailbox.alerts.service import AlertService
from farmer_mailbox.alerts.system import AlertSystem, alerts_signature
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import ConfigError
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.services import open_services
from tests.alerts.conftest import SHANXIA, SIGNATURE, YANGGAO, Rig, alerts_config, make_rig, pest_draft
from tests.helpers import TEST_ENV

SH = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2026, 7, 7, 20, 30, tzinfo=SH)
SEVEN = datetime(2026, 7, 8, 7, 0, tzinfo=SH)


async def test_a_kick_while_running_runs_once_more_never_twice_at_once() -> None:
    scheduler = AlertScheduler(SH)
    running, peak, runs = 0, 0, 0
    gate = asyncio.Event()

    async def job() -> None:
        nonlocal running, peak, runs
        running += 1
        peak = max(peak, running)
        runs += 1
        await gate.wait()
        running -= 1

    scheduler.add("job", job, every(3600))
    scheduler.kick("job")
    await asyncio.sleep(0)
    scheduler.kick("job")
    scheduler.kick("job")
    gate.set()
    await scheduler.wait_idle("job")
    assert (runs, peak) == (2, 1)


async def test_a_failing_job_is_logged_and_runs_again_next_time(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = AlertScheduler(SH)
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")

    scheduler.add("job", job, every(3600))
    with caplog.at_level(logging.ERROR):
        await scheduler.run("job")
    await scheduler.run("job")
    status = scheduler.status()["job"]
    assert (calls, status["runs"], status["failures"]) == (2, 2, 1)
    assert "database is locked" in str(status["last_error"]) and "alerts job job failed" in caplog.text


async def test_apscheduler_fires_on_the_loop_and_stop_lets_a_run_finish() -> None:
    scheduler = AlertScheduler(SH)
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def job() -> None:
        started.set()
        await release.wait()
        finished.set()

    scheduler.add("tick", job, every(0.01))
    scheduler.add("daily", job, daily_at("06:30", SH))
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    assert str(scheduler.status()["daily"]["next_run"]).endswith("06:30:00+08:00")
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert finished.is_set()


async def test_a_scheduled_alert_survives_a_restart_and_goes_out_once(rig: Rig, region_tree: RegionTree) -> None:
    rig.clock.set(EVENING)
    farmers = [await rig.user(v, ["水稻"]) for v in (YANGGAO, SHANXIA, YANGGAO)]
    alert, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=SEVEN))
    await rig.services.close()                            # the service stops overnight

    clock = ManualClock(SEVEN)
    config = alerts_config(rig.services.store.path, alerts={"fanout_chunk": 2})
    services = await open_services(config, clock, TEST_ENV, tree=region_tree)
    try:
        again = await make_rig(services, clock, {"alerts": {"fanout_chunk": 2}}, with_staff=False)
        enqueued = 0
        while enqueued < 2:                               # chunks of two user ids, then a crash
            enqueued += await again.fanout.step(alert.id) or 0
        assert enqueued == 2
        restarted = Fanout(services.store, clock, chunk=2)
        assert await restarted.run_due() == 1             # the rest, from the cursor
        assert await restarted.run_due() == 0 and await again.fanout.run_due() == 0
        await again.deliver()
        assert sorted(again.received()) == sorted(f.phone for f in farmers)
        done = await services.store.get_alert(alert.id)
        assert done is not None and done.status is Status.SENT and done.recipients == 3
    finally:
        await services.close()


async def test_the_system_wires_jobs_from_config_and_runs_the_fan_out(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with()
    farmer = await rig.user(YANGGAO, ["水稻"])
    async with httpx.AsyncClient() as client:
        system = AlertSystem.build(rig.services, client, router=rig.outbox.router, wake=rig.outbox.wake, env={})
        assert system.scheduler.names == ["fanout", "pest_calendar", "forecast_digest"]
        assert system.service.signature == SIGNATURE == alerts_signature(rig.config, rig.outbox.router)
        system.start()
        try:
            await system.service.create(rig.officer, pest_draft())
            await system.scheduler.wait_idle("fanout")   # create() kicked the fan-out at once
            await rig.outbox.drain()
        finally:
            await system.stop()
    assert rig.received() == [farmer.phone]


@pytest.mark.parametrize(("weather", "env", "message"), [
    ({"warning_source": "qweather", "areas": ["330282"]}, {}, "weather.qweather_base_url"),
    ({"warning_source": "qweather", "qweather_base_url": "http://x", "areas": ["330282"]}, {},
     "weather.qweather_key_env"),
])
async def test_a_warning_feed_without_host_or_key_stops_start_up(rig: Rig, weather: dict[str, Any],
                                                               env: dict[str, str], message: str) -> None:
    config = alerts_config(rig.services.store.path, weather=weather)
    rig.services.config = config
    async with httpx.AsyncClient() as client:
        with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
            AlertSystem.build(rig.services, client, env=env)


async def test_farmers_follow_crops_with_dy_and_then_get_crop_alerts(rig: Rig) -> None:
    farmer = await rig.user(YANGGAO)
    followed = await rig.alerts.follow(farmer.id, ["水稻", " 葡萄 ", "水稻", "火星果"])
    assert followed == tuple(sorted(("稻谷", "葡萄")))  # canonical names; unknown words dropped
    assert await rig.alerts.follow(farmer.id, ["西挂"]) == tuple(sorted(("稻谷", "葡萄")))
    assert await rig.alerts.follow(farmer.id, ["西瓜"]) == tuple(sorted(("稻谷", "葡萄", "西瓜")))
    await rig.alerts.create(rig.officer, pest_draft())
    await rig.deliver()
    assert rig.received() == [farmer.phone]
    lexicon_like = AlertService(rig.services.store, rig.services.tree, rig.config, rig.clock,
                                canonical=lambda words: tuple(w for w in ("稻谷",) if "水稻" in words))
    assert "稻谷" in await lexicon_like.follow(farmer.id, ["水稻", "火星果"])
