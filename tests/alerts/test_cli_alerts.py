"""`farmer-mailbox alerts ...` on the demo population: preview, create, list, show --follow, cancel, drafts."""

from __future__ import annotations

import asyncio
import io
import json
import random
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.alerts.fanout import Fanout
from farmer_mailbox.alerts.forms import parse_when, words
from farmer_mailbox.alerts.model import Status
from farmer_mailbox.alerts.pests import PestCalendar, PestRule
from farmer_mailbox.alerts.service import AlertService
from farmer_mailbox.cli import main
from farmer_mailbox.clock import SystemClock
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.models import Channel
from farmer_mailbox.outbox import Outbox
from farmer_mailbox.scoping import Actor
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


RED = ["alerts", "create", "--kind", "weather", "--severity", "red", "--regions", "山下村",
       "--param", "sender=慈溪市气象台", "--param", "event=暴雨", "--param", "colour=红色",
       "--param", "detail=预计未来3小时降雨量将达100毫米以上,请立即转移低洼地带人员。"]
SHANXIA_PHONES = [RICE_FARMER, "13900000015"]


class Serving:
    """The serving process, in a thread: every 20 ms fans out what is due and sends it (memory gateway)."""

    def __init__(self, db: Path) -> None:
        self.db, self.stop, self.sent = db, threading.Event(), list[str]()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        config, clock = alerts_config(str(self.db)), SystemClock()
        services = await open_services(config, clock, TEST_ENV)
        try:
            async with httpx.AsyncClient() as http:
                gateway = MemoryGateway(GatewaySettings("mem", "memory", {}), http)
                outbox = Outbox(services.store, GatewayRouter.from_config(config, {"mem": gateway}), config, clock,
                                rng=random.Random(1))
                fanout = Fanout(services.store, clock, chunk=1000)
                while not self.stop.is_set():
                    await fanout.run_due()
                    await outbox.drain()
                    await fanout.finish()
                    self.sent = [s.to for s in gateway.sent]
                    await asyncio.sleep(0.02)
        finally:
            await services.close()


@pytest.fixture
def serving(cli_db: Path) -> Iterator[Serving]:
    server = Serving(cli_db)
    server.thread.start()
    yield server
    server.stop.set()
    server.thread.join(10)


def run_in_thread(args: list[str], capsys: pytest.CaptureFixture[str], timeout: float = 20) -> tuple[int, str, str]:
    """`run`, failing the test instead of hanging when a --follow never ends."""
    result: list[tuple[int, str, str]] = []
    worker = threading.Thread(target=lambda: result.append(run(args, capsys)), daemon=True)
    worker.start()
    worker.join(timeout)
    assert result, f"{' '.join(args)} did not return within {timeout} s"
    return result[0]


def clean_lines(err: str) -> list[str]:
    """stderr of --follow off a terminal: plain lines, no carriage returns or escape codes."""
    assert "\r" not in err and "\x1b" not in err
    return [line for line in err.splitlines() if line.startswith("alert ")]


def test_create_follow_shows_progress_until_the_alert_is_sent(serving: Serving,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_in_thread([*RED, "--follow", "--interval", "0.05", "--by", OFFICER], capsys)
    done = json.loads(out)                         # one JSON document, once the alert is done
    assert code == 0 and done["alert"]["status"] == "sent" and done["alert"]["progress"]["sent"] == 2
    lines = clean_lines(err)
    alert_id = done["alert"]["id"]
    assert lines[-1] == f"alert {alert_id} sent: 已发出 2/2  已送达 0/2  失败 0/2"
    assert len(lines) == len(set(lines))           # a line only when something changed
    assert sorted(serving.sent) == sorted(SHANXIA_PHONES)


def test_confirm_follow_shows_a_held_warning_going_out(serving: Serving, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FARMER_MAILBOX_ALERTS_MONTHLY_BUDGET_YUAN", "0.01")
    code, out, err = run_in_thread([*RED, "--follow", "--by", OFFICER], capsys)
    held = json.loads(out)["alert"]                # held: --follow does not wait for an admin
    assert code == 0 and held["status"] == "held" and held["needs_confirmation"] is True
    assert f"alert {held['id']} is held: nothing is being sent" in err
    code, out, err = run_in_thread(["alerts", "confirm", str(held["id"]), "--follow", "--interval", "0.05",
                                    "--by", ADMIN], capsys)
    confirmed = json.loads(out)
    assert code == 0 and confirmed["status"] == "sent" and confirmed["progress"]["sent"] == 2
    assert clean_lines(err)[-1] == f"alert {held['id']} sent: 已发出 2/2  已送达 0/2  失败 0/2"


def test_approve_follow_waits_for_the_send_time_and_ends_when_cancelled(
        cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [draft_id] = asyncio.run(draft_rules(cli_db, ["a"]))

    async def cancel_once_scheduled() -> None:
        config = alerts_config(str(cli_db))
        services = await open_services(config, SystemClock(), TEST_ENV)
        try:
            alerts = AlertService(services.store, services.tree, config, services.clock)
            operator = Actor(None, Channel.CLI)
            while (await alerts.get(operator, draft_id)).status is not Status.SCHEDULED:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)               # the follower is drawing by now
            await alerts.cancel(operator, draft_id, "rain came early")
        finally:
            await services.close()

    canceller = threading.Thread(target=lambda: asyncio.run(cancel_once_scheduled()), daemon=True)
    canceller.start()
    code, out, err = run_in_thread(["alerts", "approve", str(draft_id), "--at", "明天07:00", "--follow",
                                    "--interval", "0.05", "--by", OFFICER], capsys)
    canceller.join(10)
    assert code == 0 and json.loads(out)["status"] == "cancelled"
    assert f"alert {draft_id} goes at " in err and "T07:00+08:00; following until it is done" in err
    assert clean_lines(err)[-1].startswith(f"alert {draft_id} cancelled: 已发出 0/")


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_follow_draws_live_bars(cli_db: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run([*RED, "--by", OFFICER], capsys)
    alert_id = json.loads(out)["alert"]["id"]
    assert code == 0 and sorted(deliver(cli_db)) == sorted(SHANXIA_PHONES)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert run(["alerts", "show", str(alert_id), "--follow", "--by", OFFICER], capsys)[0] == 0
    drawn = terminal.getvalue()
    assert "\r" in drawn and "已发出" in drawn and "2/2" in drawn and "sent" in drawn


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


async def draft_rules(db: Path, names: list[str]) -> list[int]:
    """Pest-calendar drafts (for the demo's 慈溪 officer) from rules in season today."""
    today = datetime.now(UTC).astimezone(SH).date()
    start, end = today - timedelta(days=1), today + timedelta(days=40)
    rules = [PestRule(name, "稻飞虱", "虫害", ("水稻",), "水稻", ("33",), (start.month, start.day),
                      (end.month, end.day), "进入主害期", "用吡蚜酮等药剂对准稻丛基部喷雾") for name in names]
    config = alerts_config(str(db))
    services = await open_services(config, SystemClock(), TEST_ENV)
    try:
        alerts = AlertService(services.store, services.tree, config, services.clock)
        return await PestCalendar(alerts, rules).draft_due()
    finally:
        await services.close()


def test_drafts_are_approved_or_discarded(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = asyncio.run(draft_rules(cli_db, ["a", "b"]))
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


_WRITTEN_TIMES = st.one_of(
    st.text(max_size=30),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat(" ")),
    st.builds("{:04d}-{:02d}-{:02d} {:02d}:{:02d}{}".format, st.integers(1, 9999), st.integers(1, 12),
              st.integers(1, 28), st.integers(0, 23), st.integers(0, 59),
              st.sampled_from(["", "Z", "+14:00", "-12:00", "+08:00", "+23:59", "-23:59"])),
    st.from_regex(r"\A(明天)?\d{1,2}[:：]\d{2}\Z"),
)


@settings(max_examples=500, deadline=None)
@given(_WRITTEN_TIMES)
def test_any_written_time_is_a_time_the_service_can_work_with_or_refused(text: str) -> None:
    now = datetime(2026, 7, 7, 20, 30, tzinfo=SH)
    try:
        when = parse_when(text, now, SH)
    except ValidationError as exc:
        assert exc.code == "alert.time"
        return
    if when is not None:   # converted, displayed and given its default expiry without overflowing
        assert when.tzinfo is not None
        when.astimezone(UTC), when.astimezone(SH), when + timedelta(hours=8760), when - timedelta(days=1)


def test_times_beyond_any_sensible_schedule_are_refused(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["alerts", "create", "--kind", "notice", "--regions", "慈溪市龙山镇", "--param", "content=测试通知"]
    later = (datetime.now(SH) + timedelta(days=400)).strftime("%Y-%m-%d %H:%M")
    soon = (datetime.now(SH) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    years = (datetime.now(SH) + timedelta(days=3 * 365)).strftime("%Y-%m-%d %H:%M")
    for extra, refusal in [
        (["--at", "9999-12-31 23:59"], "(alert.time)"),                  # was an OverflowError traceback
        (["--at", "0001-01-01T00:00+14:00"], "(alert.time)"),
        (["--at", later], f"发送时间太远:{later}(最多提前366天) (alert.too_far)"),
        (["--at", soon, "--expires", "now"], "过期时间须晚于发送时间 (alert.expiry)"),   # was the default expiry
        (["--expires", years], "过期时间太远:最多在发送后365天 (alert.expiry_far)"),
    ]:
        code, out, err = run([*base, *extra], capsys)
        assert (code, out) == (1, ""), extra
        assert err.strip().endswith(refusal) and "Traceback" not in err, (extra, err)
    code, out, _ = run(["alerts", "list"], capsys)
    assert (code, out) == (0, "")   # nothing was created
