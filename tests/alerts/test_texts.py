"""Alert and forecast templates stay within their segment budgets; feeds' text is cut to fit."""

from __future__ import annotations

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
from farmer_mailbox.regions import RegionTree
from gateways.common import billed_segments

SIGNATURE = build_config({}, env={}).sms.signature
ALERT_TEMPLATES = ["weather_warning", "weather_lifted", "pest_alert", "market_notice", "bureau_notice", "forecast",
                   "forecast_unavailable", "forecast_on", "forecast_off", "interests_followed"]


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
