"""Alert and forecast templates stay within their segment budgets, at the longest real names too;
feeds' text is cut to fit."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from farmer_mailbox import wording
from farmer_mailbox.alerts.texts import (
    FIELD_LIMITS,
    FREE_FIELD,
    area_name,
    budget_chars,
    fit_free_text,
    office_name,
    render_checked,
)
from farmer_mailbox.config import build_config
from farmer_mailbox.models import Level
from farmer_mailbox.regions import RegionTree
from gateways.common import billed_segments

SIGNATURE = build_config({}, env={}).sms.signature
ALERT_TEMPLATES = ["weather_warning", "weather_update", "weather_lifted", "pest_alert", "market_notice",
                   "bureau_notice", "forecast", "forecast_unavailable", "forecast_on", "forecast_off",
                   "interests_followed", "alert_held"]
EVENTS_CSV = Path(__file__).parent / "fixtures" / "qweather" / "alert-events.csv"
LONG_DETAIL = "预计未来3小时内我市大部地区降雨量将达100毫米以上,请立即转移低洼地带人员,加固大棚,疏通沟渠。" * 4


def qweather_event_names() -> list[str]:
    """Every Chinese event name in QWeather's table of warning types (461 rows, a few in English)."""
    with EVENTS_CSV.open(encoding="utf-8", newline="") as f:
        return [r["type_name_zh"] for r in csv.DictReader(f) if re.search(r"[\u4e00-\u9fff]", r["type_name_zh"])]


def longest_names(tree: RegionTree, level: Level, count: int = 5) -> list[str]:
    return sorted((r.name for r in tree.regions() if r.level is level), key=len)[-count:]


@pytest.mark.parametrize("key", ALERT_TEMPLATES)
def test_samples_fit_the_budget_and_the_field_limits(key: str) -> None:
    template = wording.TEMPLATES[key]
    text = wording.render(key, template.samples)
    assert billed_segments(SIGNATURE, text) <= template.segments
    for field, limit in FIELD_LIMITS.get(key, {}).items():
        assert len(template.samples[field]) <= limit, field
    if key in FREE_FIELD:                 # the free-text sample is the longest that fits: exactly the budget
        assert len(SIGNATURE + text) == budget_chars(template.segments)
        render_checked(key, template.samples, SIGNATURE)


def test_a_feed_text_too_long_is_cut_with_an_ellipsis() -> None:
    params = {"sender": "慈溪市气象台", "event": "暴雨", "colour": "红色", "detail": "预计未来三小时降雨量很大," * 20}
    fitted = fit_free_text("weather_warning", params, SIGNATURE)
    text, segments = render_checked("weather_warning", fitted, SIGNATURE)
    assert segments == 2 and len(SIGNATURE + text) <= 134 and text.endswith("…") and ",…" not in text
    short = {**params, "detail": "请注意防范。"}
    assert fit_free_text("weather_warning", short, SIGNATURE) == short


def test_places_and_offices_are_named_for_the_message(region_tree: RegionTree) -> None:
    towns = ("330282123000", "330282114000", "330282107000")
    assert area_name(region_tree, towns) == "龙山镇、横河镇、观海卫镇"
    assert area_name(region_tree, (*towns, "330282121000")) == "龙山镇等4地"
    assert area_name(region_tree, ("330282123222",)) == "杨高村"
    assert office_name(region_tree, towns) == "慈溪市农业农村局"
    assert office_name(region_tree, ("330282123000", "330281000000")) == "宁波市农业农村局"
    assert office_name(region_tree, ("330000000000", "440000000000")) == "浙江省农业农村厅"


def test_every_qweather_event_and_the_longest_sender_fit_without_being_cut(region_tree: RegionTree) -> None:
    events = qweather_event_names()
    assert len(events) > 400 and max(events, key=len) == "中小河流洪水和山洪气象风险"
    senders = [name + "气象台" for name in longest_names(region_tree, Level.COUNTY)]
    assert max(map(len, senders)) == 18            # 积石山保安族东乡族撒拉族自治县气象台
    for key in ("weather_warning", "weather_update", "weather_lifted"):
        assert max(map(len, senders)) <= FIELD_LIMITS[key]["sender"]
        assert max(map(len, events)) <= FIELD_LIMITS[key]["event"]
    for sender in senders:
        for event in events:
            for key in ("weather_warning", "weather_update"):     # the detail is cut to what is left
                params = {"sender": sender, "event": event, "colour": "橙色", "detail": LONG_DETAIL}
                text, segments = render_checked(key, fit_free_text(key, params, SIGNATURE), SIGNATURE)
                assert segments == 2 and text.startswith(f"{sender}{'更新' if 'update' in key else '发布'}{event}")
            lifted = {"sender": sender, "time": "12月31日23时", "event": event, "colour": "橙色"}
            assert render_checked("weather_lifted", lifted, SIGNATURE)[1] == 1


def test_a_held_alert_notice_fits_one_segment_for_the_longest_places(region_tree: RegionTree) -> None:
    towns = [r.code for r in sorted((r for r in region_tree.regions() if r.level is Level.TOWN),
                                    key=lambda r: len(r.name))[-3:]]
    for regions in (towns[-1:], towns):
        area = area_name(region_tree, tuple(regions))
        params = {"kind": wording.ALERT_WORDS["kind.weather"].format(colour="红色"), "id": "9999999", "area": area,
                  "cost": "9999999"}
        assert billed_segments(SIGNATURE, wording.render("alert_held", params)) == 1, regions
    for kind in ("weather", "pest", "market", "notice"):
        assert len(wording.ALERT_WORDS[f"kind.{kind}"].format(colour="红色")) <= 4


def test_every_county_bureau_is_named_within_its_field(region_tree: RegionTree) -> None:
    limit = FIELD_LIMITS["pest_alert"]["office"]
    for county in (r for r in region_tree.regions() if r.level is Level.COUNTY):
        office = office_name(region_tree, (county.code,))
        assert len(office) <= limit and office.endswith("农业农村局"), county.code
