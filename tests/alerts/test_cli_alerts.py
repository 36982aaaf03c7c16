"""`farmer-mailbox alerts ...` on the demo population: preview, create, list, show --follow, cancel, drafts."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from farmer_mailbox.alerts.fanout import Fanout
from farmer_mailbox.alerts.forms import parse_when, words
from farmer_mailbox.alerts.pests import PestCalendar, PestRule
from farmer_mailbox.alerts.service import AlertService
from farmer_mailbox.cli import main
from farmer_mailbox.clock import SystemClock
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.outbox import Outbox
from farmer_mailbox.services import open_services
from farmer_mailbox.validation import ValidationError
from gateways import GatewaySettings
from gateways.memory import MemoryGateway
from tests.alerts.conftest import alerts_config
from tests.helpers import TEST_ENV

SH = ZoneInfo("Asia/Shanghai")
OFFICER, ADMIN, LIAISON, RICE_FARMER = "13900000002", "13900000001", "13900000003", "13900000014"
PEST = ["--kind", "pest", "--regions", "龙山镇,横河镇", "--crops", "水稻", "--param", "pest=稻飞虱",
        "--param", "stage=已达防治高峰", "--param", "when=7月8日", "--param", "crop=水稻",
        "--param", "advice=选用吡蚜酮等药剂对准稻丛基部喷雾"]


@pytest.fixture
def cli_db(tmp_path: Path, region_db_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.db"
    shutil.copy(region_db_template, db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(db))
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    assert main(["demo"]) == 0
    return db


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def deliver(db: Path) -> list[str]:
    """What the serving process would do: fan out due alerts and send them (memory gateway)."""

    async def go() -> list[str]:
        config = alerts_config(str(db))
        clock = SystemClock()
        services = await open_services(config, clock, TEST_ENV)
        try:
            gateway = MemoryGateway(GatewaySettings("mem", "memory", {}), httpx.AsyncClient())
            outbox = Outbox(services.store, GatewayRouter.from_config(config, {"mem": gateway}), config, clock,
                            rng=random.Random(1))
            fanout = Fanout(services.store, clock, chunk=1000)
            await fanout.run_due()
            await outbox.drain()
            await fanout.finish()
            return [s.to for s in gateway.sent]
        finally:
            await services.close()

    return asyncio.run(go())


def test_preview_create_list_show_and_follow(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["alerts", "preview", *PEST, "--by", OFFICER], capsys)
    preview = json.loads(out)
    assert code == 0 and preview["recipients"] == 1 and preview["by_town"][0]["name"] == "慈溪市龙山镇"
    code, out, _ = run(["alerts", "create", *PEST, "--by", OFFICER], capsys)
    created = json.loads(out)["alert"]
    assert code == 0 and created["status"] == "scheduled" and created["text"].startswith("植保提醒:龙山镇、横河镇水稻")
    code, out, _ = run(["alerts", "list", "--by", OFFICER], capsys)
    assert out.startswith(f"{created['id']}\tscheduled\tpest\t")


def test_a_red_warning_goes_and_show_follow_draws_its_progress(cli_db: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["alerts", "create", "--kind", "weather", "--severity", "red", "--regions", "山下村",
                        "--param", "sender=慈溪市气象台", "--param", "event=暴雨", "--param", "colour=红色",
                        "--param", "detail=预计未来3小时降雨量将达100毫米以上,请立即转移低洼地带人员。",
                        "--by", OFFICER], capsys)
    created = json.loads(out)["alert"]
    assert code == 0 and created["urgent"] is True
    assert sorted(deliver(cli_db)) == sorted([RICE_FARMER, "13900000015"])    # 山下村, night or day
    code, out, err = run(["alerts", "show", str(created["id"]), "--follow", "--by", OFFICER], capsys)
    shown = json.loads(out)
    assert shown["status"] == "sent" and shown["progress"]["sent"] == 2
    assert "已发出" in err and "2/2" in err and "失败" in err


def test_officers_stay_in_their_county_and_liaisons_cannot_send(cli_db: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["alerts", "preview", *PEST[:2], "--regions", "余姚市", "--by", OFFICER], capsys)
    assert code == 1 and "(scope.county)" in err
    code, _, err = run(["alerts", "create", *PEST, "--by", LIAISON], capsys)
    assert code == 1 and "(scope.role)" in err


def test_cancel_and_states(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["alerts", "create", *PEST, "--at", "明天07:00", "--by", OFFICER], capsys)
    alert = json.loads(out)["alert"]
    assert alert["send_at"].endswith("T07:00+08:00")
    code, out, _ = run(["alerts", "cancel", str(alert["id"]), "--reason", "wrong date", "--by", OFFICER], capsys)
    assert code == 0 and json.loads(out)["status"] == "cancelled"
    code, _, err = run(["alerts", "cancel", str(alert["id"]), "--by", OFFICER], capsys)
    assert code == 1 and "(alert.state)" in err
    code, _, err = run(["alerts", "show", "999", "--by", OFFICER], capsys)
    assert code == 1 and "(alert.not_found)" in err


def test_over_budget_is_held_until_an_admin_confirms(cli_db: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FARMER_MAILBOX_ALERTS_MONTHLY_BUDGET_YUAN", "0.01")
    code, out, err = run(["alerts", "create", *PEST, "--by", OFFICER], capsys)
    alert = json.loads(out)["alert"]
    assert alert["status"] == "held" and f"alerts confirm {alert['id']}" in err
    code, _, err = run(["alerts", "confirm", str(alert["id"]), "--by", OFFICER], capsys)
    assert code == 1 and "(scope.role)" in err
    code, out, _ = run(["alerts", "confirm", str(alert["id"]), "--by", ADMIN], capsys)
    assert code == 0 and json.loads(out)["status"] == "scheduled"


def test_drafts_are_approved_or_discarded(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(UTC).astimezone(SH).date()
    start, end = today - timedelta(days=1), today + timedelta(days=40)
    rules = [PestRule(name, "稻飞虱", "虫害", ("水稻",), "水稻", ("33",), (start.month, start.day),
                      (end.month, end.day), "进入主害期", "用吡蚜酮等药剂对准稻丛基部喷雾") for name in ("a", "b")]

    async def draft() -> list[int]:
        config = alerts_config(str(cli_db))
        services = await open_services(config, SystemClock(), TEST_ENV)
        try:
            alerts = AlertService(services.store, services.tree, config, services.clock)
            return await PestCalendar(alerts, rules).draft_due()
        finally:
            await services.close()

    first, second = asyncio.run(draft())
    code, out, _ = run(["alerts", "list", "--status", "draft", "--by", OFFICER], capsys)
    assert str(first) in out and "\tdraft\tpest\t" in out
    code, out, err = run(["alerts", "approve", str(first), "--at", "明天07:00", "--regions", "龙山镇",
                        "--param", "stage=已达高峰", "--by", OFFICER], capsys)
    assert code == 0, err
    approved = json.loads(out)
    assert code == 0 and approved["status"] == "scheduled" and approved["params"]["area"] == "龙山镇"
    code, out, _ = run(["alerts", "discard", str(second), "--by", OFFICER], capsys)
    assert code == 0 and json.loads(out)["status"] == "discarded"


def test_times_and_words() -> None:
    now = datetime(2026, 7, 7, 20, 30, tzinfo=SH)
    assert parse_when("now", now, SH) is None and parse_when("", now, SH) is None
    assert parse_when("07:00", now, SH) == datetime(2026, 7, 8, 7, 0, tzinfo=SH)
    assert parse_when("21:00", now, SH) == datetime(2026, 7, 7, 21, 0, tzinfo=SH)
    assert parse_when("明天07:00", now, SH) == datetime(2026, 7, 8, 7, 0, tzinfo=SH)
    assert parse_when("2026-07-09 06:30", now, SH) == datetime(2026, 7, 9, 6, 30, tzinfo=SH)
    assert parse_when("2026-07-09T06:30+00:00", now, SH) == datetime(2026, 7, 9, 6, 30, tzinfo=UTC)
    for bad in ("25:00", "tomorrow", "昨天"):
        with pytest.raises(ValidationError):
            parse_when(bad, now, SH)
    assert words("龙山镇，横河镇、观海卫镇 附海镇") == ("龙山镇", "横河镇", "观海卫镇", "附海镇")
    assert words(["水稻", " "]) == ("水稻",)
