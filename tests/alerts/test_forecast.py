"""Next-day forecasts: the Open-Meteo-style client against a local server, TQ text, opt-in, digest."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp import web

from farmer_mailbox import wording
from farmer_mailbox.alerts.digest import ForecastService
from farmer_mailbox.alerts.forecast import (
    DayForecast,
    OpenMeteoClient,
    forecast_params,
    parse_daily,
    point_of,
    weather_words,
)
from farmer_mailbox.models import Level
from gateways.common import billed_segments
from tests.alerts.conftest import SIGNATURE, YANGGAO, ZHOUXIANG_VILLAGE, ZILING, Rig

SH = ZoneInfo("Asia/Shanghai")
BODY = json.loads((Path(__file__).parent / "fixtures" / "open_meteo" / "forecast_daily.json").read_text("utf-8"))
EVENING = datetime(2026, 7, 7, 18, 0, tzinfo=SH)


class OpenMeteoServer:
    """Answers /v1/forecast with the fixture (or a failure), recording the query."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.status = 200
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> OpenMeteoServer:
        app = web.Application()
        app.router.add_get("/v1/forecast", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        if self.status != 200:
            return web.json_response({"error": True, "reason": "Cannot initialize"}, status=self.status)
        return web.json_response(BODY)


@dataclass
class Weather:
    server: OpenMeteoServer
    forecasts: ForecastService
    rig: Rig


@pytest.fixture
async def weather(rig: Rig) -> AsyncIterator[Weather]:
    async with OpenMeteoServer() as server, httpx.AsyncClient() as client:
        rig.clock.set(EVENING)
        forecasts = ForecastService(
            rig.services.store, rig.services.tree, OpenMeteoClient(client, server.url), rig.clock,
            zone=rig.alerts.zone, quiet=rig.alerts.quiet, digest_time="18:00", wake=rig.outbox.wake)
        yield Weather(server, forecasts, rig)


def test_the_daily_arrays_are_read_by_day() -> None:
    days = parse_daily(BODY)
    assert days[1] == DayForecast(date(2026, 7, 8), 61, 18.3, 11.6, 80)


def test_missing_values_drop_the_rain_or_the_message() -> None:
    assert forecast_params("龙山镇", DayForecast(date(2026, 7, 8), 0, 30.6, 21.4, None)) == {
        "place": "龙山镇", "weather": "晴", "temp": "21~31", "rain": ""}
    assert forecast_params("龙山镇", DayForecast(date(2026, 7, 8), 1234, 30.0, 20.0, 10)) is None
    assert forecast_params("龙山镇", DayForecast(date(2026, 7, 8), 3, None, 20.0, 10)) is None


async def test_tq_answers_with_tomorrow_for_the_users_town_in_one_segment(weather: Weather) -> None:
    text = await weather.forecasts.forecast_text(YANGGAO)
    assert text == "明天龙山镇:小雨,12~18℃,降水概率80%。"
    assert billed_segments(SIGNATURE, text) == 1
    [query] = weather.server.queries
    point = point_of("330282123000")
    assert point is not None
    assert (float(query["latitude"]), float(query["longitude"])) == (round(point.lat, 4), round(point.lon, 4))
    assert query["timezone"] == "Asia/Shanghai" and query["forecast_days"] == "2"
    assert query["daily"] == "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max"
    await weather.forecasts.forecast_text(YANGGAO)
    assert len(weather.server.queries) == 1               # cached for the hour


async def test_when_the_provider_fails_the_reply_says_so(weather: Weather) -> None:
    weather.server.status = 503
    assert await weather.forecasts.forecast_reply(YANGGAO) == ("forecast_unavailable", {"place": "龙山镇"})


async def test_the_digest_goes_once_a_day_to_those_who_asked(weather: Weather) -> None:
    rig, forecasts = weather.rig, weather.forecasts
    asked = [await rig.user(YANGGAO), await rig.user(YANGGAO), await rig.user(ZILING)]
    await rig.user(ZHOUXIANG_VILLAGE)                     # did not ask
    for user in asked:
        assert await forecasts.set_optin(user.id, True) == ("forecast_on", {
            "time": "18:00", "place": "龙山镇" if user.village_code == YANGGAO else "横河镇"})
    assert await forecasts.send_digest() == 3
    assert await forecasts.send_digest() == 0
    await rig.outbox.drain()
    assert sorted(rig.received()) == sorted(u.phone for u in asked)
    assert {s.text for s in rig.gateway.sent} == {"明天龙山镇:小雨,12~18℃,降水概率80%。",
                                                   "明天横河镇:小雨,12~18℃,降水概率80%。"}
    assert len(weather.server.queries) == 2               # one fetch per town
    assert await forecasts.opted_in(asked[0].id)
    assert await forecasts.set_optin(asked[0].id, False) == ("forecast_off", {})
    assert not await forecasts.opted_in(asked[0].id)
    events = [e.text for e in await rig.services.store.record_tail(10) if e.text.startswith("forecast_")]
    assert events[:2] == ["forecast_optout", "forecast_digest"]


async def test_no_digest_once_quiet_hours_began(weather: Weather) -> None:
    rig = weather.rig
    user = await rig.user(YANGGAO)
    await weather.forecasts.set_optin(user.id, True)
    rig.clock.set(datetime(2026, 7, 7, 21, 30, tzinfo=SH))
    assert await weather.forecasts.send_digest() == 0


async def test_digest_copies_not_sent_by_quiet_hours_expire(weather: Weather) -> None:
    rig = weather.rig
    user = await rig.user(YANGGAO)
    await weather.forecasts.set_optin(user.id, True)
    assert await weather.forecasts.send_digest() == 1
    rig.clock.set(datetime(2026, 7, 8, 7, 0, tzinfo=SH))
    await rig.outbox.housekeeping()
    await rig.outbox.drain()
    assert rig.received() == []
    row = await rig.services.store.outbox_by_key(f"forecast:2026-07-08:{user.id}")
    assert row is not None and row.status == "expired"


def test_every_county_has_a_point_and_towns_fall_back_to_it() -> None:
    assert point_of("330282123222") == point_of("330282123000")
    county = point_of("330281000000")
    assert county is not None and point_of("330281101000") == county      # 余姚 towns: county centroid
    assert point_of("999999999999") is None


def test_a_column_of_the_wrong_shape_reads_as_missing_a_body_without_days_is_refused() -> None:
    assert parse_daily({"daily": {"time": ["2026-07-08"], "weather_code": "x"}})[0].weather_code is None
    with pytest.raises(KeyError):
        parse_daily({})


def test_every_forecast_reply_is_one_segment_for_the_longest_town_names(weather: Weather) -> None:
    tree = weather.rig.services.tree
    towns = sorted((r for r in tree.regions() if r.level is Level.TOWN), key=lambda r: len(r.name))[-20:]
    assert len(towns[-1].name) >= 20                   # e.g. 内蒙古赤峰冶金化工开发区管理委员会巴林右旗产业园
    words = weather_words()
    longest = max(words, key=lambda code: len(words[code]))      # 雷阵雨伴冰雹
    for town in towns:
        place = weather.forecasts.place(town.code)
        day = DayForecast(date(2026, 12, 31), longest, -29.6, -40.4, 100)
        params = forecast_params(place, day)
        assert params is not None and params["rain"] == ",降水概率100%"
        replies = [("forecast", params), ("forecast_unavailable", {"place": place}),
                   ("forecast_on", {"time": "18:00", "place": place})]
        for key, values in replies:
            text = wording.render(key, values)
            assert billed_segments(SIGNATURE, text) == 1 == wording.TEMPLATES[key].segments, (key, text)
