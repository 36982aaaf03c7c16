"""Official warnings from a local server replaying QWeather's documented bodies: once, updated, lifted."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.alerts.forecast import Point
from farmer_mailbox.alerts.intake import WarningIntake
from farmer_mailbox.alerts.model import Severity, Status
from farmer_mailbox.alerts.qweather import QWeatherSource, parse_v1, parse_v7
from farmer_mailbox.alerts.warnings import (
    WarningArea,
    WarningFeedError,
    WarningStatus,
    colour_of,
    detail_of,
    parse_areas,
)
from farmer_mailbox.config import ConfigError
from tests.alerts.conftest import SHANXIA, YANGGAO, ZHANJIANG_VILLAGE, ZHOUXIANG_VILLAGE, Rig
from tests.alerts.qweather_server import KEY, QWeatherServer, sample, v1_alert, v1_body, v1_path

SH = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 7, 7, 23, 0, tzinfo=SH)
DAY = datetime(2026, 7, 8, 10, 0, tzinfo=SH)
CHIKAN = "440802"  # 湛江市赤坎区, the second county


# --- parsing the documented bodies -------------------------------------------------------------

def test_v7_sample_parses() -> None:
    [w] = parse_v7(sample("getWarningNow-zh.json"))
    assert (w.id, w.sender, w.type_code, w.type_name) == ("10102010020230403103000500681616", "上海中心气象台",
                                                          "1006", "大风")
    assert (w.colour, w.status, w.supersedes) == (Severity.BLUE, WarningStatus.ALERT, ())
    assert w.end == datetime(2023, 4, 4, 10, 30, tzinfo=SH)
    assert detail_of(w.text).startswith("受江淮气旋影响,预计明天傍晚以前")


def test_v1_sample_parses_as_an_update() -> None:
    [w] = parse_v1(sample("getWeatherAlertCurrent-zh.json"))
    assert (w.id, w.sender, w.type_name, w.colour) == ("202510241119105837988676", "临桂区气象台", "大风",
                                                       Severity.BLUE)
    assert (w.status, w.supersedes) == (WarningStatus.UPDATE, ("202510181140100706230391",))
    assert detail_of(w.text).startswith("预计未来24小时内临桂将出现6级")


@pytest.mark.parametrize(("colour", "title", "severity", "expected"), [
    ("Red", "", "", Severity.RED), ("orange", "", "", Severity.ORANGE), ("", "发布暴雨黄色预警", "", Severity.YELLOW),
    ("", "", "Severe", Severity.ORANGE), ("", "", "extreme", Severity.RED), ("White", "", "", Severity.BLUE),
])
def test_colours_follow_the_cma_levels(colour: str, title: str, severity: str, expected: Severity) -> None:
    assert colour_of(colour, title, severity) is expected


@pytest.mark.parametrize("body", [{"code": "401"}, {"code": "200", "warning": "x"}])
def test_v7_error_codes_and_bad_shapes_are_feed_errors(body: dict[str, Any]) -> None:
    with pytest.raises(WarningFeedError):
        parse_v7(body)


def test_areas_are_read_from_config_words(region_tree: Any) -> None:
    [plain, location, coords] = parse_areas(["330282", "330282=101210404", "440802=110.36,21.27"], region_tree)
    assert plain.region == "330282000000" and plain.point is not None and plain.location == ""
    assert location.location == "101210404"
    assert coords.point is not None and (coords.point.lat, coords.point.lon) == (21.27, 110.36)
    with pytest.raises(ConfigError, match=r"weather\.areas"):
        parse_areas(["999999"], region_tree)


# --- against the local server ------------------------------------------------------------------

@dataclass
class Feed:
    server: QWeatherServer
    rig: Rig
    client: httpx.AsyncClient

    def intake(self, areas: list[str], api: str = "v1", **kw: Any) -> WarningIntake:
        source = QWeatherSource(self.client, self.server.url, KEY, api)
        return WarningIntake(self.rig.alerts, source, parse_areas(areas), **kw)

    async def alerts(self) -> list[Any]:
        return list(reversed(await self.rig.services.store.list_alerts()))


@pytest.fixture
async def feed(rig: Rig) -> AsyncIterator[Feed]:
    async with QWeatherServer() as server, httpx.AsyncClient() as client:
        yield Feed(server, rig, client)


async def test_a_red_rainstorm_for_two_counties_reaches_both_now_once(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(NIGHT)
    cixi = [await rig.user(v) for v in (YANGGAO, ZHOUXIANG_VILLAGE)]
    chikan = await rig.user(ZHANJIANG_VILLAGE)
    feed.server.answer(v1_path("330282"), v1_body(v1_alert("cixi-red-1")))
    feed.server.answer(v1_path(CHIKAN), v1_body(v1_alert("chikan-red-1", sender="湛江市赤坎区气象台")))
    intake = feed.intake(["330282", CHIKAN])
    assert await intake.poll() == {"new": 2}
    await rig.deliver()
    staff = [a.user.phone for a in (rig.officer, rig.admin) if a.user]   # they live in 赤坎区 too
    everyone = sorted([*(u.phone for u in cixi), chikan.phone, *staff])
    assert sorted(rig.received()) == everyone
    assert await intake.poll() == {"seen": 2}
    assert await feed.intake(["330282", CHIKAN]).poll() == {"seen": 2}   # after a restart: the ledger
    await rig.deliver()
    assert sorted(rig.received()) == everyone
    cixi_alert, _ = await feed.alerts()
    assert (cixi_alert.urgent, cixi_alert.severity, cixi_alert.source) == (True, Severity.RED, "qweather:cixi-red-1")
    assert rig.gateway.sent[0].text.startswith("慈溪市气象台发布暴雨红色预警:预计未来3小时内")
    assert feed.server.requests[0].headers["X-QW-Api-Key"] == KEY


async def test_one_warning_found_for_two_overlapping_areas_is_one_alert(feed: Feed) -> None:
    rig = feed.rig
    farmer = await rig.user(YANGGAO)
    body = v1_body(v1_alert("ningbo-1", sender="宁波市气象台", colour="orange"))
    feed.server.answer(v1_path("330282"), body)
    feed.server.answer(v1_path("330200"), body)
    assert await feed.intake(["330282", "330200"]).poll() == {"new": 1}
    [alert] = await feed.alerts()
    assert alert.target.regions == ("330200000000",)
    await rig.deliver()
    assert rig.received() == [farmer.phone]


async def test_a_continued_warning_updates_waiting_copies_without_a_second_message(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(NIGHT)
    farmer = await rig.user(YANGGAO)
    path = v1_path("330282")
    intake = feed.intake(["330282"])
    feed.server.answer(path, v1_body(v1_alert("gale-a", event=("大风", "1006"), colour="blue")))
    assert await intake.poll() == {"new": 1}
    await rig.deliver()                                   # blue: waits for the morning
    later = NIGHT + timedelta(hours=1)
    feed.server.answer(path, v1_body(v1_alert("gale-b", event=("大风", "1006"), colour="blue", message="update",
                                              supersedes=("gale-a",), issued=later)))
    assert await intake.poll() == {"continued": 1}
    rig.clock.set(DAY)
    await rig.deliver()
    assert rig.received() == [farmer.phone]
    assert "23时更新大风" not in rig.gateway.sent[0].text
    [alert] = await feed.alerts()
    assert alert.params["detail"].startswith("预计未来3小时内") and alert.expires_at == later + timedelta(hours=12)


async def test_an_upgrade_cancels_what_waits_and_goes_to_everyone(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(NIGHT)
    farmer = await rig.user(YANGGAO)
    path, intake = v1_path("330282"), feed.intake(["330282"])
    feed.server.answer(path, v1_body(v1_alert("rain-a", colour="yellow")))
    await intake.poll()
    await rig.deliver()
    feed.server.answer(path, v1_body(v1_alert("rain-b", colour="orange", message="update", supersedes=("rain-a",))))
    assert await intake.poll() == {"new": 1}
    await rig.deliver()
    rig.clock.set(DAY)
    await rig.deliver()
    assert rig.received() == [farmer.phone]
    assert "暴雨橙色预警" in rig.gateway.sent[0].text
    yellow, orange = await feed.alerts()
    assert (yellow.status, orange.status, orange.supersedes) == (Status.CANCELLED, Status.SENT, yellow.id)


async def test_in_daytime_an_upgrade_is_news_to_those_who_got_the_first(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(DAY)
    await rig.user(YANGGAO)
    path, intake = v1_path("330282"), feed.intake(["330282"])
    feed.server.answer(path, v1_body(v1_alert("rain-a", colour="yellow", issued=DAY)))
    await intake.poll()
    await rig.deliver()
    feed.server.answer(path, v1_body(v1_alert("rain-b", colour="red", message="update", supersedes=("rain-a",),
                                              issued=DAY)))
    await intake.poll()
    await rig.deliver()
    first, update = [s.text for s in rig.gateway.sent]
    assert first.startswith("慈溪市气象台发布暴雨黄色预警:")
    assert update.startswith("慈溪市气象台更新暴雨红色预警:预计未来3小时内")     # it says it is an update
    assert len([s for s in rig.gateway.sent if s.to == rig.received()[0]]) == 2


async def test_an_update_mid_send_reaches_each_user_once_and_cancels_what_waits(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(outbox={"batch_size": 1})
    rig.clock.set(DAY)
    farmers = [await rig.user(v) for v in (YANGGAO, SHANXIA, YANGGAO)]
    async with QWeatherServer() as server, httpx.AsyncClient() as client:
        feed = Feed(server, rig, client)
        path, intake = v1_path("330282"), feed.intake(["330282"])
        server.answer(path, v1_body(v1_alert("rain-a", colour="orange", issued=DAY)))
        assert await intake.poll() == {"new": 1}
        await rig.fanout.run_due()
        await rig.outbox.dispatch_once()                   # one copy out, two waiting
        [heard] = rig.received()
        server.answer(path, v1_body(v1_alert("rain-b", colour="red", message="update", supersedes=("rain-a",),
                                             issued=DAY)))
        assert await intake.poll() == {"new": 1}
        await rig.deliver()
        assert await intake.poll() == {"seen": 1}
        await rig.deliver()
        orange, red = await feed.alerts()
    by_phone = {u.phone: [s.template_key for s in rig.gateway.sent if s.to == u.phone] for u in farmers}
    assert by_phone == {u.phone: ["weather_warning", "weather_update"] if u.phone == heard else ["weather_update"]
                        for u in farmers}
    _, cancelled = await rig.alerts.progress(rig.admin, orange.id)
    assert (orange.status, cancelled.sent, cancelled.get("cancelled")) == (Status.CANCELLED, 1, 2)
    assert (red.status, red.supersedes, red.recipients) == (Status.SENT, orange.id, 3)


async def test_a_cancellation_mid_send_stops_the_rest_and_tells_only_those_who_got_it(
        rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(outbox={"batch_size": 1})
    rig.clock.set(DAY)
    farmers = [await rig.user(v) for v in (YANGGAO, SHANXIA, YANGGAO)]
    async with QWeatherServer() as server, httpx.AsyncClient() as client:
        feed = Feed(server, rig, client)
        path, intake = v1_path("330282"), feed.intake(["330282"])
        server.answer(path, v1_body(v1_alert("hail-a", event=("冰雹", "1015"), colour="orange", issued=DAY)))
        await intake.poll()
        await rig.fanout.run_due()
        await rig.outbox.dispatch_once()
        [heard] = rig.received()
        rig.clock.set(DAY + timedelta(hours=1))
        server.answer(path, v1_body(v1_alert("hail-c", event=("冰雹", "1015"), colour="orange", message="cancel",
                                             supersedes=("hail-a",), issued=DAY + timedelta(hours=1))))
        assert await intake.poll() == {"lifted": 1}
        await rig.deliver()
        warning, lifted = await feed.alerts()
    assert [(s.to, s.template_key) for s in rig.gateway.sent] == [(heard, "weather_warning"),
                                                                   (heard, "weather_lifted")]
    assert rig.gateway.sent[1].text == "慈溪市气象台已于7月8日11时解除冰雹橙色预警。"
    _, progress = await rig.alerts.progress(rig.admin, warning.id)
    assert (warning.status, progress.sent, progress.get("cancelled")) == (Status.CANCELLED, 1, len(farmers) - 1)
    assert (lifted.recipients, lifted.cost_yuan) == (1, 0.05)     # only the one who got it, and paid for one


async def test_a_warning_for_an_area_we_have_no_region_for_is_logged_and_skipped(
        feed: Feed, caplog: pytest.LogCaptureFixture) -> None:
    rig = feed.rig
    farmer = await rig.user(YANGGAO)
    nowhere = WarningArea("990100000000", point=Point(30.0, 120.0))     # no such region in the table
    source = QWeatherSource(feed.client, feed.server.url, KEY)
    intake = WarningIntake(rig.alerts, source, [nowhere, *parse_areas(["330282"])])
    feed.server.answer("/weatheralert/v1/current/30.00/120.00", v1_body(v1_alert("nowhere-1")))
    feed.server.answer(v1_path("330282"), v1_body(v1_alert("cixi-1")))
    with caplog.at_level(logging.ERROR):
        assert await intake.poll() == {"refused": 1, "new": 1}
    assert "nowhere-1" in caplog.text and "990100000000" in caplog.text
    assert await intake.poll() == {"seen": 2}                          # skipped for good, not retried
    await rig.deliver()
    assert rig.received() == [farmer.phone]


@pytest.mark.parametrize(("status", "body"), [
    (503, "Service Unavailable"), (500, {"error": {"status": 500}}), (200, "<html>maintenance</html>"),
    (200, ["not", "an", "object"]), (200, {"alerts": {"id": "x"}}), (200, {"unexpected": True}),
])
async def test_a_feed_error_is_logged_and_the_next_round_takes_the_warning(
        feed: Feed, caplog: pytest.LogCaptureFixture, status: int, body: Any) -> None:
    rig = feed.rig
    farmer = await rig.user(YANGGAO)
    path, intake = v1_path("330282"), feed.intake(["330282"])
    feed.server.answer(path, body, status=status)
    with caplog.at_level(logging.WARNING):
        assert await intake.poll() == {}
    assert "warning feed qweather failed for 330282000000" in caplog.text
    feed.server.answer(path, v1_body(v1_alert("late-1")))
    assert await intake.poll() == {"new": 1}
    await rig.deliver()
    assert rig.received() == [farmer.phone]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                      max_size=5), max_leaves=25)
alert_items = st.fixed_dictionaries({}, optional={
    key: json_values | st.text(max_size=30) for key in (
        "id", "senderName", "issuedTime", "messageType", "eventType", "severity", "color", "effectiveTime",
        "onsetTime", "expireTime", "headline", "description")})


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.fixed_dictionaries({"alerts": st.lists(alert_items | json_values, max_size=4)},
                                                    optional={"metadata": json_values})))
def test_any_v1_body_parses_or_is_a_feed_error(body: Any) -> None:
    try:
        warnings = parse_v1(body) if isinstance(body, dict) else []
    except WarningFeedError:
        return
    assert all(w.id and isinstance(w.colour, Severity) for w in warnings)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.fixed_dictionaries({"code": st.sampled_from(["200", "204", "401", 200]),
                                                     "warning": st.lists(json_values, max_size=4) | json_values})))
def test_any_v7_body_parses_or_is_a_feed_error(body: Any) -> None:
    try:
        warnings = parse_v7(body) if isinstance(body, dict) else []
    except WarningFeedError:
        return
    assert all(w.id and isinstance(w.status, WarningStatus) for w in warnings)


async def test_a_cancellation_lifts_the_warning_and_says_so_to_those_who_got_it(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(DAY)
    farmer = await rig.user(YANGGAO)
    path, intake = v1_path("330282"), feed.intake(["330282"])
    feed.server.answer(path, v1_body(v1_alert("storm-a", colour="red", issued=DAY)))
    await intake.poll()
    await rig.deliver()
    lifted_at = DAY + timedelta(hours=3)
    rig.clock.set(lifted_at)
    feed.server.answer(path, v1_body(v1_alert("storm-c", colour="red", message="cancel", supersedes=("storm-a",),
                                              issued=lifted_at)))
    assert await intake.poll() == {"lifted": 1}
    await rig.deliver()
    texts = [s.text for s in rig.gateway.sent if s.to == farmer.phone]
    assert texts[1] == "慈溪市气象台已于7月8日13时解除暴雨红色预警。"
    assert await intake.poll() == {"seen": 1}


async def test_a_warning_lifted_before_anyone_got_it_is_cancelled_silently(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(NIGHT)
    await rig.user(YANGGAO)
    path, intake = v1_path("330282"), feed.intake(["330282"])
    feed.server.answer(path, v1_body(v1_alert("fog-a", event=("大雾", "1017"), colour="yellow")))
    await intake.poll()
    await rig.deliver()
    feed.server.answer(path, v1_body(v1_alert("fog-c", event=("大雾", "1017"), colour="yellow", message="cancel",
                                              supersedes=("fog-a",))))
    assert await intake.poll() == {"lifted": 1}
    rig.clock.set(DAY)
    await rig.deliver()
    assert rig.received() == []
    [alert] = await feed.alerts()
    assert alert.status is Status.CANCELLED


async def test_below_the_configured_colour_nothing_is_sent(feed: Feed) -> None:
    rig = feed.rig
    await rig.user(YANGGAO)
    feed.server.answer(v1_path("330282"), v1_body(v1_alert("gale-blue", event=("大风", "1006"), colour="blue")))
    assert await feed.intake(["330282"], min_colour=Severity.YELLOW).poll() == {"below_threshold": 1}
    assert await feed.alerts() == []


async def test_a_failing_area_does_not_stop_the_others(feed: Feed) -> None:
    rig = feed.rig
    farmer = await rig.user(YANGGAO)
    feed.server.answer(v1_path(CHIKAN), "upstream down", status=502)
    feed.server.answer(v1_path("330282"), v1_body(v1_alert("ok-1")))
    assert await feed.intake([CHIKAN, "330282"]).poll() == {"new": 1}
    await rig.deliver()
    assert rig.received() == [farmer.phone]


async def test_a_warning_reaching_a_new_area_later_extends_its_alert(feed: Feed) -> None:
    rig = feed.rig
    cixi, chikan = await rig.user(YANGGAO), await rig.user(ZHANJIANG_VILLAGE)
    staff = [a.user.phone for a in (rig.officer, rig.admin) if a.user]
    body = v1_body(v1_alert("wide-1", colour="orange"))
    feed.server.answer(v1_path("330282"), body)
    await feed.intake(["330282"]).poll()
    await rig.deliver()
    feed.server.answer(v1_path(CHIKAN), body)
    assert await feed.intake(["330282", CHIKAN]).poll() == {"extended": 1}
    await rig.deliver()
    assert sorted(rig.received()) == sorted([cixi.phone, chikan.phone, *staff])


async def test_v7_asks_by_location_id_and_skips_a_warning_already_over(feed: Feed) -> None:
    await feed.rig.user(SHANXIA)
    feed.server.answer("/v7/warning/now?location=101210404&lang=zh", sample("getWarningNow-zh.json"))
    assert await feed.intake(["330282=101210404"], api="v7").poll() == {"expired": 1}   # ended 2023-04-04
    assert feed.server.requests[0].query["location"] == "101210404"
    assert await feed.alerts() == []


async def test_v7_sample_in_its_own_time_becomes_a_blue_alert(feed: Feed) -> None:
    rig = feed.rig
    rig.clock.set(datetime(2023, 4, 3, 11, 0, tzinfo=SH))
    farmer = await rig.user(SHANXIA)
    feed.server.answer("/v7/warning/now?location=101210404&lang=zh", sample("getWarningNow-zh.json"))
    assert await feed.intake(["330282=101210404"], api="v7").poll() == {"new": 1}
    await rig.deliver()
    [sms] = rig.gateway.sent
    assert sms.to == farmer.phone
    assert sms.text.startswith("上海中心气象台发布大风蓝色预警:受江淮气旋影响,预计明天傍晚以前")
    assert len("【农民信箱】" + sms.text) <= 134


@pytest.mark.parametrize(("policy", "red_status"), [("hold", Status.HELD), ("send", Status.SENT)])
async def test_over_budget_warnings_wait_for_an_admin_unless_urgent_ones_may_go(
        rig_with: Callable[..., Any], policy: str, red_status: Status) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.01, "urgent_over_budget": policy})
    farmer = await rig.user(YANGGAO)
    async with QWeatherServer() as server, httpx.AsyncClient() as client:
        feed = Feed(server, rig, client)
        server.answer(v1_path("330282"), v1_body(v1_alert("blue-1", event=("大风", "1006"), colour="blue"),
                                                 v1_alert("red-1", colour="red")))
        assert await feed.intake(["330282"]).poll() == {"new": 2}
        await rig.deliver()
        blue, red = await feed.alerts()
    assert (blue.status, red.status) == (Status.HELD, red_status)
    warned = [s.to for s in rig.gateway.sent if s.template_key == "weather_warning"]
    assert warned == ([farmer.phone] if policy == "send" else [])
    held = [s.text for s in rig.gateway.sent if s.template_key == "alert_held"]
    assert len(held) == (2 if policy == "hold" else 1) and all("超出本月预算" in t for t in held)
    events = [json.loads(e.detail) for e in await rig.services.store.record_tail(30) if e.text == "warning_received"]
    assert sorted(e["warning"] for e in events) == ["blue-1", "red-1"]
