"""The alert service: scope, cost preview and budget, quiet hours vs urgent, cancel, expiry, states."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from farmer_mailbox.alerts.model import AlertDraft, Kind, Severity, Status
from farmer_mailbox.models import Channel
from farmer_mailbox.validation import ValidationError
from gateways import OutboundSms
from tests.alerts.conftest import (
    CIXI,
    DASHAN,
    HENGHE,
    LONGSHAN,
    SHANXIA,
    YANGGAO,
    ZHANJIANG_VILLAGE,
    ZILING,
    Rig,
    pest_draft,
    weather_draft,
)

SH = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2026, 7, 7, 22, 0, tzinfo=SH)       # quiet hours (21:00-07:00)
NEXT_MORNING = datetime(2026, 7, 8, 7, 0, tzinfo=SH)


def codes(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return error.value.code


def sent_of(rig: Rig, template_key: str) -> list[OutboundSms]:
    """What the gateway sent of one template."""
    return [s for s in rig.gateway.sent if s.template_key == template_key]


# --- scope -------------------------------------------------------------------------------------

async def test_officers_act_within_their_county_admins_anywhere(rig: Rig) -> None:
    await rig.user(YANGGAO, ["水稻"])
    await rig.user(ZHANJIANG_VILLAGE, ["水稻"])
    for regions in (["余姚市"], ["330000"], ["宁波市"], [ZHANJIANG_VILLAGE]):
        with pytest.raises(ValidationError) as caught:
            await rig.alerts.preview(rig.officer, pest_draft(regions))
        assert codes(caught) == "scope.county", regions
    alert, _ = await rig.alerts.create(rig.admin, pest_draft(["330000", "440000"]))
    assert alert.recipients == 2 and alert.county_code is None


async def test_officers_of_another_county_cannot_see_or_cancel(rig: Rig) -> None:
    await rig.user(YANGGAO, ["水稻"])
    alert, _ = await rig.alerts.create(rig.officer, pest_draft())
    other = await rig.staff("officer", "440802")
    for action in (rig.alerts.get(other, alert.id), rig.alerts.cancel(other, alert.id)):
        with pytest.raises(ValidationError) as caught:
            await action
        assert codes(caught) == "alert.not_found"
    assert await rig.alerts.list_alerts(other) == []
    assert [a.id for a in await rig.alerts.list_alerts(rig.officer)] == [alert.id]
    assert (await rig.alerts.get(rig.admin, alert.id)).id == alert.id


async def test_farmers_and_liaisons_cannot_send(rig: Rig) -> None:
    farmer = await rig.user(YANGGAO, ["水稻"])
    actor = await rig.services.accounts.actor_for(farmer, Channel.SMS)
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.create(actor, pest_draft())
    assert codes(caught) == "scope.role"


# --- preview, cost and budget ------------------------------------------------------------------

async def test_preview_gives_recipients_segments_and_cost_by_town(rig: Rig) -> None:
    for village in (YANGGAO, SHANXIA, YANGGAO, ZILING, DASHAN):
        await rig.user(village, ["水稻"])
    preview = await rig.alerts.preview(rig.officer, pest_draft([LONGSHAN, HENGHE]))
    assert preview.text.startswith("植保提醒:龙山镇、横河镇水稻稻飞虱已达防治高峰,请于7月8日前")
    assert preview.text.endswith("。慈溪市农业农村局")
    assert preview.segments == 2 and 70 < len("【农民信箱】" + preview.text) <= 134
    assert preview.recipients == 5
    assert preview.cost_yuan == round(5 * preview.segments * 0.05, 2)
    assert [(t.code, t.name, t.recipients) for t in preview.by_town] == [
        (LONGSHAN, "慈溪市龙山镇", 3), (HENGHE, "慈溪市横河镇", 2)]
    body = preview.as_dict()
    assert body["total_segments"] == 5 * preview.segments and body["needs_confirmation"] is False
    assert body["budget"] == {"county_code": "330282000000", "month": "2026-05", "limit_yuan": 20000.0,
                              "spent_yuan": 0.0, "this_alert_yuan": preview.cost_yuan,
                              "after_yuan": preview.cost_yuan, "exceeds": False}


async def test_over_budget_waits_for_an_admin(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.5})
    for village in (YANGGAO, SHANXIA, DASHAN):
        await rig.user(village, ["水稻"])
    first, _ = await rig.alerts.create(rig.officer, pest_draft([LONGSHAN, HENGHE]))
    assert first.status is Status.SCHEDULED and first.cost_yuan == 0.3
    second, preview = await rig.alerts.create(rig.officer, pest_draft([LONGSHAN, HENGHE]))
    assert preview.needs_confirmation and preview.budget and preview.budget.spent_yuan == 0.3
    assert second.status is Status.HELD
    await rig.deliver()
    assert len(sent_of(rig, "pest_alert")) == 3           # the held one did not go
    [notice] = sent_of(rig, "alert_held")                 # the admin was told, once
    assert rig.admin.user and notice.to == rig.admin.user.phone
    assert notice.text == f"植保提醒{second.id}号(龙山镇、横河镇,约0.3元)超出本月预算,需管理员确认后才发送。"
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.confirm(rig.officer, second.id)
    assert codes(caught) == "scope.role"
    confirmed = await rig.alerts.confirm(rig.admin, second.id)
    assert confirmed.status is Status.SCHEDULED and confirmed.confirmed_by == rig.admin.user_id
    await rig.deliver()
    assert len(sent_of(rig, "pest_alert")) == 6 and len(sent_of(rig, "alert_held")) == 1


async def test_a_hold_at_night_is_told_to_admins_in_the_morning_unless_settled_before(
        rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.01})
    rig.clock.set(EVENING)
    second_admin = await rig.staff("admin")
    await rig.user(YANGGAO, ["水稻"])
    confirmed, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=NEXT_MORNING))
    cancelled, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=NEXT_MORNING))
    kept, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=NEXT_MORNING))
    await rig.deliver()
    assert rig.gateway.sent == []                         # a pest alert's hold is not worth a night call
    await rig.alerts.confirm(second_admin, confirmed.id)
    await rig.alerts.cancel(rig.officer, cancelled.id)
    rig.clock.set(NEXT_MORNING)
    await rig.deliver()
    notices = sent_of(rig, "alert_held")
    assert rig.admin.user and second_admin.user
    assert sorted(n.to for n in notices) == sorted([rig.admin.user.phone, second_admin.user.phone])
    assert all(n.text.startswith(f"植保提醒{kept.id}号(龙山镇,") for n in notices)
    assert len(sent_of(rig, "pest_alert")) == 1           # the confirmed one


async def test_an_admin_may_confirm_at_creation_and_a_new_month_starts_afresh(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.1})
    for village in (YANGGAO, SHANXIA, DASHAN):
        await rig.user(village, ["水稻"])
    held, _ = await rig.alerts.create(rig.admin, pest_draft([LONGSHAN, HENGHE]))
    assert held.status is Status.HELD
    with pytest.raises(ValidationError):
        await rig.alerts.create(rig.officer, pest_draft(), confirm_budget=True)
    ok, _ = await rig.alerts.create(rig.admin, pest_draft([LONGSHAN, HENGHE]), confirm_budget=True)
    assert ok.status is Status.SCHEDULED and ok.confirmed_by == rig.admin.user_id
    june = datetime(2026, 6, 1, 7, 0, tzinfo=SH)
    preview = await rig.alerts.preview(rig.officer, pest_draft(send_at=june))
    assert preview.budget and preview.budget.month == "2026-06" and preview.budget.spent_yuan == 0


async def test_a_warning_for_two_counties_is_charged_to_each_by_its_recipients(
        rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.3})
    for village in (YANGGAO, SHANXIA, ZILING, DASHAN):
        await rig.user(village, ["水稻"])                 # 慈溪: 4; 赤坎: a farmer and the two staff
    await rig.user(ZHANJIANG_VILLAGE, ["水稻"])
    chikan, cixi = "440802000000", "330282000000"
    red, preview = await rig.alerts.create(rig.admin, weather_draft([CIXI, "440802"]))
    assert red.status is Status.SCHEDULED and red.county_code is None and preview.budget is None
    assert preview.segments == 1 and preview.cost_yuan == 0.35
    assert [(b.county_code, b.alert_yuan, b.spent_yuan) for b in preview.budgets] == [
        (cixi, 0.2, 0.0), (chikan, 0.15, 0.0)]
    assert await rig.services.store.alert_charges(red.id) == {cixi: 4, chikan: 3}
    await rig.deliver()
    # each bureau's month now holds its share: a later alert sees it and goes over in 慈溪 only
    pest, priced = await rig.alerts.create(rig.officer, pest_draft([LONGSHAN, HENGHE]))
    assert priced.budget and (priced.budget.county_code, priced.budget.spent_yuan) == (cixi, 0.2)
    assert pest.status is Status.HELD and priced.needs_confirmation
    south, south_priced = await rig.alerts.create(rig.admin, weather_draft(["440802"], severity=Severity.BLUE))
    assert south_priced.budget and south_priced.budget.spent_yuan == 0.15
    assert south.status is Status.SCHEDULED                # 0.15 + 0.15 is within 赤坎's 0.3
    both, both_priced = await rig.alerts.create(rig.admin, weather_draft([CIXI, "440802"]))
    assert both.status is Status.HELD
    assert [b.county_code for b in both_priced.over_budget] == [cixi, chikan]
    create = [json.loads(e.detail) for e in await rig.services.store.record_tail(20) if e.text == "alert_create"]
    assert create[0]["over_counties"] == [cixi, chikan]


async def test_cost_follows_what_went_out(rig: Rig) -> None:
    farmer = await rig.user(YANGGAO, ["水稻"])
    await rig.user(SHANXIA, ["水稻"])
    rig.gateway.fail_for(farmer.phone, code="bad_number", retryable=False)
    alert, preview = await rig.alerts.create(rig.officer, pest_draft())
    await rig.deliver()
    done = await rig.alerts.get(rig.officer, alert.id)
    assert done.status is Status.SENT and done.recipients == 2
    assert done.cost_yuan == round(1 * preview.segments * 0.05, 2)


# --- texts -------------------------------------------------------------------------------------

async def test_free_text_over_budget_is_refused_saying_how_much_to_cut(rig: Rig) -> None:
    await rig.user(YANGGAO)
    draft = AlertDraft(kind=Kind.NOTICE, template_key="bureau_notice", params={"content": "请" * 120},
                       regions=(LONGSHAN,))
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.create(rig.officer, draft)
    assert codes(caught) == "alert.too_long"
    assert "“content”缩短" in caught.value.message and "最多2条(134字含签名)" in caught.value.message
    ok = AlertDraft(kind=Kind.NOTICE, template_key="bureau_notice", params={"content": "请" * 100},
                    regions=(LONGSHAN,))
    assert (await rig.alerts.preview(rig.officer, ok)).segments == 2


@pytest.mark.parametrize(("draft", "code"), [
    (AlertDraft(Kind.NOTICE, "pest_alert", {}, (LONGSHAN,)), "alert.template"),
    (AlertDraft(Kind.WEATHER, "weather_warning", {}, (LONGSHAN,)), "alert.severity"),
    (AlertDraft(Kind.NOTICE, "bureau_notice", {}, (LONGSHAN,)), "alert.params"),
    (AlertDraft(Kind.NOTICE, "bureau_notice", {"content": "好", "x": "y"}, (LONGSHAN,)), "alert.params_unknown"),
    (AlertDraft(Kind.NOTICE, "bureau_notice", {"content": "好", "office": "很" * 20}, (LONGSHAN,)),
     "alert.field_too_long"),
])
async def test_bad_drafts_are_refused_with_a_code(rig: Rig, draft: AlertDraft, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.preview(rig.officer, draft)
    assert codes(caught) == code


async def test_an_alert_nobody_would_get_is_refused(rig: Rig) -> None:
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.create(rig.officer, pest_draft())
    assert codes(caught) == "alert.empty"


# --- quiet hours, caps, urgency ----------------------------------------------------------------

async def test_a_pest_alert_at_night_waits_for_seven_a_red_warning_goes_now(rig: Rig) -> None:
    rig.clock.set(EVENING)
    farmer = await rig.user(YANGGAO, ["水稻"])
    pest, preview = await rig.alerts.create(rig.officer, pest_draft())
    assert preview.waits_until == NEXT_MORNING and not pest.urgent
    red, red_preview = await rig.alerts.create(rig.officer, weather_draft())
    assert red.urgent and red_preview.waits_until is None
    await rig.deliver()
    assert [s.template_key for s in rig.gateway.sent] == ["weather_warning"]
    rig.clock.set(NEXT_MORNING)
    await rig.deliver()
    assert [(s.to, s.template_key) for s in rig.gateway.sent] == [
        (farmer.phone, "weather_warning"), (farmer.phone, "pest_alert")]


@pytest.mark.parametrize(("severity", "urgent"), [
    (Severity.BLUE, False), (Severity.YELLOW, False), (Severity.ORANGE, True), (Severity.RED, True)])
async def test_only_orange_and_red_warnings_go_through_quiet_hours(rig: Rig, severity: Severity,
                                                                   urgent: bool) -> None:
    rig.clock.set(EVENING)
    await rig.user(YANGGAO)
    alert, _ = await rig.alerts.create(rig.officer, weather_draft(severity=severity))
    assert alert.urgent is urgent
    await rig.deliver()
    assert len(rig.received()) == int(urgent)


async def test_urgent_warnings_pass_per_user_caps_others_wait(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(outbox={"per_recipient_hour": 1})
    farmer = await rig.user(YANGGAO, ["水稻"])
    await rig.alerts.create(rig.officer, pest_draft())
    await rig.deliver()
    second, _ = await rig.alerts.create(rig.officer, pest_draft())
    await rig.alerts.create(rig.officer, weather_draft(severity=Severity.ORANGE))
    await rig.deliver()
    assert [s.template_key for s in rig.gateway.sent] == ["pest_alert", "weather_warning"]
    row = await rig.services.store.outbox_by_key(f"alert:{second.id}:{farmer.id}")
    assert row and row.status == "queued" and row.error == "recipient cap reached"


async def test_tomorrow_seven_is_scheduled_not_sent_tonight(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 7, 7, 20, 30, tzinfo=SH))
    await rig.user(YANGGAO, ["水稻"])
    alert, preview = await rig.alerts.create(rig.officer, pest_draft(send_at=NEXT_MORNING))
    assert preview.waits_until is None and alert.status is Status.SCHEDULED
    await rig.deliver()
    assert rig.received() == [] and await rig.services.store.alert_progress(alert.id) == type(
        await rig.services.store.alert_progress(alert.id))()
    rig.clock.set(NEXT_MORNING)
    await rig.deliver()
    assert len(rig.received()) == 1
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.create(rig.officer, pest_draft(send_at=EVENING))
    assert codes(caught) == "alert.past"


# --- cancel and expiry -------------------------------------------------------------------------

async def test_cancel_mid_send_stops_the_rest(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(outbox={"batch_size": 2})
    for village in (YANGGAO, SHANXIA, YANGGAO, SHANXIA, YANGGAO):
        await rig.user(village, ["水稻"])
    alert, preview = await rig.alerts.create(rig.officer, pest_draft())
    await rig.fanout.run_due()
    await rig.outbox.dispatch_once()
    cancelled = await rig.alerts.cancel(rig.officer, alert.id, "wrong date")
    await rig.outbox.drain()
    assert len(rig.received()) == 2
    assert cancelled.status is Status.CANCELLED
    assert cancelled.cost_yuan == round(2 * preview.segments * 0.05, 2)
    _, progress = await rig.alerts.progress(rig.officer, alert.id)
    assert (progress.sent, progress.get("cancelled"), progress.waiting) == (2, 3, 0)
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.cancel(rig.officer, alert.id)
    assert codes(caught) == "alert.state"


async def test_cancel_between_fan_out_chunks_adds_no_more(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"fanout_chunk": 2})
    users = [await rig.user(v, ["水稻"]) for v in (YANGGAO, SHANXIA, YANGGAO, SHANXIA, YANGGAO)]
    alert, _ = await rig.alerts.create(rig.officer, pest_draft())
    first_chunk = await rig.fanout.step(alert.id)
    await rig.alerts.cancel(rig.officer, alert.id)
    assert await rig.fanout.run_due() == 0
    await rig.deliver()
    assert rig.received() == [] and (first_chunk or 0) <= 2
    assert len(users) == 5


async def test_a_chunked_fan_out_reaches_everyone_once(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"fanout_chunk": 2})
    users = [await rig.user(v, ["水稻"]) for v in (YANGGAO, SHANXIA, YANGGAO, SHANXIA, YANGGAO)]
    await rig.user(ZILING, ["水稻"])
    alert, _ = await rig.alerts.create(rig.officer, pest_draft())
    assert await rig.fanout.run_due() == 5
    await rig.deliver()
    assert sorted(rig.received()) == sorted(u.phone for u in users)
    done = await rig.alerts.get(rig.officer, alert.id)
    assert (done.status, done.recipients) == (Status.SENT, 5)


async def test_undelivered_copies_expire_with_the_alert(rig: Rig) -> None:
    rig.clock.set(EVENING)
    await rig.user(YANGGAO, ["水稻"])
    alert, _ = await rig.alerts.create(rig.officer, pest_draft(expires_at=EVENING + timedelta(hours=2)))
    await rig.deliver()
    rig.clock.set(NEXT_MORNING)
    await rig.outbox.housekeeping()
    await rig.deliver()
    assert rig.received() == []
    done = await rig.alerts.get(rig.officer, alert.id)
    assert done.status is Status.EXPIRED and done.cost_yuan == 0
    _, progress = await rig.alerts.progress(rig.officer, alert.id)
    assert progress.get("expired") == 1


async def test_a_scheduled_alert_past_its_expiry_is_never_fanned_out(rig: Rig) -> None:
    await rig.user(YANGGAO, ["水稻"])
    later = rig.clock.now() + timedelta(hours=1)
    alert, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=later, expires_at=later + timedelta(hours=1)))
    rig.clock.advance(timedelta(hours=3))                 # the service was down all that time
    await rig.deliver()
    assert rig.received() == []
    assert (await rig.alerts.get(rig.officer, alert.id)).status is Status.EXPIRED


# --- record ------------------------------------------------------------------------------------

async def test_every_action_is_an_event_in_the_record(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.05})
    await rig.user(YANGGAO, ["水稻"])
    await rig.user(SHANXIA, ["水稻"])
    alert, _ = await rig.alerts.create(rig.officer, pest_draft())
    await rig.alerts.confirm(rig.admin, alert.id)
    await rig.deliver()
    other, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=rig.clock.now() + timedelta(hours=1)))
    await rig.alerts.cancel(rig.officer, other.id)
    events = [(e.text, json.loads(e.detail).get("alert")) for e in reversed(await rig.services.store.record_tail(50))
              if e.kind == "event" and e.text.startswith("alert_")]
    assert events == [("alert_create", alert.id), ("alert_confirm", alert.id), ("alert_send", alert.id),
                      ("alert_fanned_out", alert.id), ("alert_sent", alert.id), ("alert_create", other.id),
                      ("alert_cancel", other.id)]
    create = next(e for e in await rig.services.store.record_tail(50) if e.text == "alert_create")
    assert create.user_id == rig.officer.user_id and create.channel == "api"


async def test_times_are_aware_and_stored_in_utc(rig: Rig) -> None:
    await rig.user(YANGGAO, ["水稻"])
    alert, _ = await rig.alerts.create(rig.officer, pest_draft(send_at=datetime(2026, 5, 2, 7, 0, tzinfo=SH)))
    assert alert.send_at == datetime(2026, 5, 1, 23, 0, tzinfo=UTC)


async def test_an_urgent_warning_overtakes_a_long_fan_out(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"fanout_chunk": 2})
    users = [await rig.user(v, ["水稻"]) for v in (YANGGAO, SHANXIA) * 3]
    notice, _ = await rig.alerts.create(rig.officer, pest_draft())
    red, _ = await rig.alerts.create(rig.officer, weather_draft(send_at=rig.clock.now() + timedelta(seconds=30)))
    ticks = iter([timedelta(minutes=1)])

    def wake() -> None:               # after the notice's first chunk, a minute passes
        rig.clock.advance(next(ticks, timedelta(0)))

    rig.fanout.wake = wake
    await rig.fanout.run_due()        # the warning falls due after the notice's first chunk: it goes next
    store = rig.services.store
    red_rows = [await store.outbox_by_key(f"alert:{red.id}:{u.id}") for u in users]
    notice_rows = [await store.outbox_by_key(f"alert:{notice.id}:{u.id}") for u in users]
    assert max(r.id for r in red_rows if r) < max(r.id for r in notice_rows if r)


async def test_orange_and_red_over_budget_wait_for_an_admin_who_is_told_at_once(
        rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.01})
    rig.clock.set(EVENING)                                # night: the admin's notice goes anyway
    farmer = await rig.user(YANGGAO)
    red, preview = await rig.alerts.create(rig.officer, weather_draft())
    assert red.status is Status.HELD and preview.needs_confirmation and preview.budget and preview.budget.exceeds
    assert preview.as_dict()["needs_confirmation"] is True
    await rig.deliver()
    [notice] = rig.gateway.sent
    assert rig.admin.user and (notice.to, notice.template_key) == (rig.admin.user.phone, "alert_held")
    assert notice.text == f"红色预警{red.id}号(慈溪市,约0.05元)超出本月预算,需管理员确认后才发送。"
    assert [a.id for a in await rig.alerts.list_alerts(rig.officer, "held")] == [red.id]
    await rig.alerts.confirm(rig.admin, red.id)
    await rig.deliver()
    assert [s.to for s in sent_of(rig, "weather_warning")] == [farmer.phone]   # at once, night or not
    _, progress = await rig.alerts.progress(rig.officer, red.id)
    assert progress.total == 1                            # the admin's notice is not a copy of the alert


async def test_bureaus_may_let_orange_and_red_go_over_budget_and_the_record_says_so(
        rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with(alerts={"monthly_budget_yuan": 0.01, "urgent_over_budget": "send"})
    await rig.user(YANGGAO)
    red, preview = await rig.alerts.create(rig.officer, weather_draft())
    assert red.status is Status.SCHEDULED and preview.budget and preview.budget.exceeds
    assert not preview.needs_confirmation
    create = next(e for e in await rig.services.store.record_tail(10) if e.text == "alert_create")
    assert json.loads(create.detail)["over_budget"] is True
    blue, _ = await rig.alerts.create(rig.officer, weather_draft(severity=Severity.BLUE))
    assert blue.status is Status.HELD
    await rig.deliver()
    assert sorted(s.template_key for s in rig.gateway.sent) == ["alert_held", "weather_warning"]
