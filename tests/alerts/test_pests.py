"""The pest calendar: rules in data, drafts once per rule, county and season, approve or discard."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from farmer_mailbox.alerts.model import Kind, Status
from farmer_mailbox.alerts.pests import PestCalendar, PestRule, packaged_rules, parse_rules
from farmer_mailbox.alerts.texts import render_checked
from farmer_mailbox.models import Role
from farmer_mailbox.validation import ValidationError
from tests.alerts.conftest import (
    GUANHAIWEI,
    HENGHE,
    LONGSHAN,
    SIGNATURE,
    WEIDONG,
    YANGGAO,
    ZHOUXIANG_VILLAGE,
    ZILING,
    Rig,
)

SH = ZoneInfo("Asia/Shanghai")
MID_JULY = datetime(2026, 7, 15, 9, 0, tzinfo=SH)


def test_the_calendar_has_realistic_rules_that_fit_two_segments() -> None:
    rules = packaged_rules()
    assert len(rules) >= 20 and len({r.id for r in rules}) == len(rules)
    for rule in rules:
        assert rule.kind in ("虫害", "病害") and rule.crops and rule.regions
        assert all(r.isdigit() and len(r) in (2, 4, 6) for r in rule.regions)
        params = {"area": "积石山保安族东乡族撒拉族", "crop": rule.label, "pest": rule.pest, "stage": rule.stage,
                  "when": "12月31日", "advice": rule.advice, "office": "积石山保安族东乡族自治农业农村局"[:14]}
        render_checked("pest_alert", params, SIGNATURE)     # raises when over budget or a field is too long


@pytest.mark.parametrize(("today", "season"), [
    (date(2026, 11, 10), (date(2026, 11, 15), date(2027, 2, 15))),
    (date(2027, 1, 10), (date(2026, 11, 15), date(2027, 2, 15))),
    (date(2027, 2, 16), None),
    (date(2026, 11, 7), None),
])
def test_seasons_may_cross_the_new_year(today: date, season: tuple[date, date] | None) -> None:
    rule = PestRule("x", "蚜虫", "虫害", ("小麦",), "小麦", ("33",), (11, 15), (2, 15), "越冬期", "清除杂草")
    assert rule.season(today, lead_days=7) == season


def test_a_bad_row_is_named() -> None:
    header = "id,pest,kind,crops,label,regions,start,end,stage,advice\n"
    with pytest.raises(ValueError, match="line 2"):
        parse_rules(header + "x,蚜虫,虫害,小麦,小麦,33,02-29,03-01,期,药\n")


async def test_a_season_start_drafts_once_per_county_for_the_officer(rig: Rig) -> None:
    rig.clock.set(MID_JULY)
    calendar = PestCalendar(rig.alerts, packaged_rules(), lead_days=7)
    drafted = await calendar.draft_due()
    assert drafted and await calendar.draft_due() == []
    planthopper = await rig.services.store.alert_by_source("pest:rice-planthopper-yangtze:330282:2026")
    assert planthopper is not None and planthopper.id in drafted
    assert (planthopper.status, planthopper.kind, planthopper.target.regions) == (
        Status.DRAFT, Kind.PEST, ("330282000000",))
    assert planthopper.target.crops == ("水稻",) and planthopper.target.roles == (Role.FARMER, Role.LIAISON)
    assert planthopper.send_at == datetime(2026, 7, 20, 7, 0, tzinfo=SH)
    assert planthopper.params["when"] == "7月30日" and planthopper.params["office"] == "慈溪市农业农村局"
    sources = [a.source or "" for a in await rig.services.store.list_alerts(status="draft")]
    assert all(s.startswith("pest:") and s.endswith(":330282:2026") for s in sources)   # only 慈溪 has an officer
    await rig.user(YANGGAO, ["水稻"])
    await rig.deliver()
    assert rig.received() == []                           # drafts go nowhere


async def test_the_officer_approves_for_three_towns_at_seven(rig: Rig) -> None:
    rig.clock.set(MID_JULY)
    rice = [await rig.user(v, ["水稻"]) for v in (YANGGAO, ZILING, WEIDONG)]
    await rig.user(ZHOUXIANG_VILLAGE, ["水稻"])          # 周巷镇: not among the three towns
    calendar = PestCalendar(rig.alerts, packaged_rules())
    await calendar.draft_due()
    draft = await rig.services.store.alert_by_source("pest:rice-planthopper-yangtze:330282:2026")
    assert draft is not None
    approved = await rig.alerts.approve(rig.officer, draft.id, params={"stage": "已达高峰"},
                                        regions=[LONGSHAN, HENGHE, GUANHAIWEI])
    assert approved.status is Status.SCHEDULED and approved.recipients == 3
    assert approved.params["area"] == "龙山镇、横河镇、观海卫镇" and approved.params["stage"] == "已达高峰"
    await rig.deliver()
    assert rig.received() == []
    rig.clock.set(datetime(2026, 7, 20, 7, 0, tzinfo=SH))
    await rig.deliver()
    assert sorted(rig.received()) == sorted(u.phone for u in rice)
    assert rig.gateway.sent[0].text.startswith(
        "植保提醒:龙山镇、横河镇、观海卫镇水稻稻飞虱已达高峰,请于7月30日前查虫定田")


async def test_discard_and_no_second_decision(rig: Rig) -> None:
    rig.clock.set(MID_JULY)
    await PestCalendar(rig.alerts, packaged_rules()).draft_due()
    draft = await rig.services.store.alert_by_source("pest:rice-leafroller:330282:2026")
    assert draft is not None
    assert (await rig.alerts.discard(rig.officer, draft.id)).status is Status.DISCARDED
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.approve(rig.officer, draft.id)
    assert caught.value.code == "alert.state"


async def test_a_draft_left_past_its_season_expires(rig: Rig) -> None:
    rig.clock.set(MID_JULY)
    await PestCalendar(rig.alerts, packaged_rules()).draft_due()
    draft = await rig.services.store.alert_by_source("pest:rice-leafroller:330282:2026")
    assert draft is not None
    rig.clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=SH))
    await rig.fanout.finish()
    assert (await rig.alerts.get(rig.officer, draft.id)).status is Status.EXPIRED


async def test_other_counties_officers_get_their_own_rules(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 5, 10, 9, 0, tzinfo=SH))
    await rig.staff("officer", "440802")
    await PestCalendar(rig.alerts, packaged_rules()).draft_due()
    south = await rig.services.store.alert_by_source("pest:rice-planthopper-south:440802:2026")
    assert south is not None and south.status is Status.DRAFT
    assert await rig.services.store.alert_by_source("pest:rice-planthopper-south:330282:2026") is None


async def test_drafts_are_approved_only_within_the_officers_county(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 5, 10, 9, 0, tzinfo=SH))
    await rig.staff("officer", "440802")
    await PestCalendar(rig.alerts, packaged_rules()).draft_due()
    south = await rig.services.store.alert_by_source("pest:rice-planthopper-south:440802:2026")
    assert south is not None
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.approve(rig.officer, south.id)
    assert caught.value.code == "alert.not_found"
    assert south.send_at - rig.clock.now() <= timedelta(days=6)


async def test_run_daily_it_drafts_once_a_season_per_county_and_a_discard_is_not_drafted_again(rig: Rig) -> None:
    await rig.staff("officer", "330282")                  # a second officer of 慈溪: still one draft
    await rig.staff("officer", "440802")
    rule = PestRule("hopper", "稻飞虱", "虫害", ("水稻",), "水稻", ("33", "44"), (7, 20), (9, 20), "进入主害期",
                    "用吡蚜酮等药剂对准稻丛基部喷雾")
    calendar = PestCalendar(rig.alerts, [rule], lead_days=7)
    drafted: dict[str, list[int]] = {}
    day = datetime(2026, 6, 1, 6, 30, tzinfo=SH)
    while day < datetime(2026, 12, 31, tzinfo=SH):        # the job, every morning for seven months
        rig.clock.set(day)
        for alert_id in await calendar.draft_due():
            alert = await rig.alerts.get(rig.admin, alert_id)
            drafted.setdefault(alert.target.regions[0], []).append(alert_id)
            if alert.target.regions == ("330282000000",):   # 慈溪's officer discards it at once
                await rig.alerts.discard(rig.officer, alert_id)
            first_day = day.date()
        await rig.fanout.finish()                          # the fan-out job expires drafts past their season
        day += timedelta(days=1)
    assert {county: len(ids) for county, ids in drafted.items()} == {"330282000000": 1, "440802000000": 1}
    assert first_day == date(2026, 7, 13)                # seven days before the season
    [cixi] = drafted["330282000000"]
    assert (await rig.alerts.get(rig.officer, cixi)).status is Status.DISCARDED
    rig.clock.set(datetime(2027, 7, 13, 6, 30, tzinfo=SH))    # next year's season: drafted afresh
    again = await calendar.draft_due()
    assert len(again) == 2 and cixi not in again
    sources = sorted(a.source or "" for a in await rig.services.store.list_alerts(status="draft"))
    assert sources == ["pest:hopper:330282:2027", "pest:hopper:440802:2027"]     # 2026's expired unanswered
