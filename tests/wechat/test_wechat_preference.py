"""Delivery preference: WeChat for a bound user inside the 48-hour window, SMS outside it, urgent by
both; answers stay on the channel asked; a WeChat message that fails for good goes by SMS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from farmer_mailbox import wording
from farmer_mailbox.alerts.model import AlertDraft, Kind, Severity
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.models import Channel
from farmer_mailbox.outbox import Message
from tests.wechat.conftest import Start
from tests.wechat.service_rig import WechatRig

OPENID = "o_zhao_gang_00000000000000000"
PHONE = "13900000013"
HELP = wording.render("help", {})
WARNING = {"sender": "慈溪市气象台", "event": "暴雨", "colour": "红色", "detail": "请立即转移低洼地带人员。"}


async def bound(rig: WechatRig) -> int:
    user_id = await rig.register(PHONE, name="赵刚")
    assert (await rig.bind(OPENID, PHONE)).text.startswith("绑定成功")
    rig.sms.sent.clear()
    return user_id


def match(key: str, user_id: int) -> Message:
    return Message(idem_key=key, purpose="match", address=PHONE, template_key="help", params={}, user_id=user_id)


def urgent(key: str, user_id: int) -> Message:
    return Message(idem_key=key, purpose="alert", address=PHONE, template_key="weather_warning", params=WARNING,
                   user_id=user_id, urgent=True)


async def channels(rig: WechatRig) -> dict[str, str]:
    store = rig.runtime.services.store
    return {k: row.address for k in ("m1", "m2", "u1", "u1:wechat", "u2", "u2:wechat")
            if (row := await store.outbox_by_key(k)) is not None}


async def test_inside_the_window_wechat_outside_it_sms(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        user_id = await bound(rig)
        clock.advance(timedelta(hours=47, minutes=59))
        await rig.runtime.outbox.send_now(match("m1", user_id))
        await rig.deliver()
        assert rig.api.texts == [(OPENID, HELP)] and rig.sms.sent == []
        clock.advance(timedelta(minutes=2))           # 48 h since the user last wrote in WeChat
        await rig.runtime.outbox.send_now(match("m2", user_id))
        await rig.deliver()
        assert [s.to for s in rig.sms.sent] == [PHONE] and len(rig.api.texts) == 1
        assert await channels(rig) == {"m1": OPENID, "m2": PHONE}


async def test_writing_in_wechat_reopens_the_window(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        user_id = await bound(rig)
        clock.advance(timedelta(days=3))
        await rig.text(OPENID, "帮助")
        await rig.runtime.outbox.send_now(match("m1", user_id))
        assert await channels(rig) == {"m1": OPENID}


async def test_urgent_messages_go_by_both_inside_the_window_and_by_sms_outside(start: Start,
                                                                             clock: ManualClock) -> None:
    async with start() as rig:
        user_id = await bound(rig)
        await rig.runtime.outbox.send_now(urgent("u1", user_id))
        await rig.deliver()
        clock.advance(timedelta(hours=49))
        await rig.runtime.outbox.send_now(urgent("u2", user_id))
        await rig.deliver()
        assert await channels(rig) == {"u1": PHONE, "u1:wechat": OPENID, "u2": PHONE}
        text = wording.render("weather_warning", WARNING)
        assert [(s.to, s.text) for s in rig.sms.sent] == [(PHONE, text), (PHONE, text)]
        assert rig.api.texts == [(OPENID, text)]


async def test_a_template_message_reaches_wechat_outside_the_window(start: Start, clock: ManualClock) -> None:
    templates = {"weather_warning": {"template_id": "TPL_WARNING", "fields": {"first": "_text", "keyword1": "event"}}}
    async with start(gateway={"templates": templates}) as rig:
        user_id = await bound(rig)
        clock.advance(timedelta(hours=72))
        await rig.runtime.outbox.send_now(urgent("u1", user_id))
        rig.api.outside_window.add(OPENID)
        await rig.deliver()
        assert [s.to for s in rig.sms.sent] == [PHONE]
        [sent] = rig.api.templates_sent
        assert (sent["touser"], sent["template_id"], sent["data"]["keyword1"]) == (OPENID, "TPL_WARNING",
                                                                                 {"value": "暴雨"})


async def test_a_wechat_message_refused_for_good_goes_again_by_sms(start: Start) -> None:
    async with start() as rig:
        user_id = await bound(rig)
        await rig.runtime.outbox.send_now(match("m1", user_id))
        rig.api.outside_window.add(OPENID)             # WeChat says 45015: the window closed meanwhile
        await rig.deliver()
        assert rig.api.texts == [] and [s.to for s in rig.sms.sent] == [PHONE]
        store = rig.runtime.services.store
        first, again = await store.outbox_by_key("m1"), await store.outbox_by_key("m1:sms")
        assert first is not None and again is not None
        assert (first.status, again.status, again.address) == ("failed", "sent", PHONE)
        assert first.error is not None and "45015" in first.error


async def test_an_answer_stays_on_the_channel_asked(start: Start) -> None:
    async with start() as rig:
        await bound(rig)
        assert await rig.sms_in(PHONE, "帮助") == 200     # the bound user texts by SMS
        await rig.runtime.inbox.drain()
        await rig.deliver()
        assert [(s.to, s.text) for s in rig.sms.sent] == [(PHONE, HELP)] and rig.api.texts == []


async def test_an_urgent_alert_fans_out_to_wechat_too_and_costs_only_its_sms(start: Start,
                                                                           clock: ManualClock) -> None:
    async with start() as rig:
        user_id = await bound(rig)
        sms_only = await rig.register("13900000018", name="孙丽")
        lapsed = await rig.register("13900000019", name="周强")
        await rig.bind("o_lapsed_0000000000000000000", "13900000019")
        await rig.event("o_lapsed_0000000000000000000", "unsubscribe")
        alerts = rig.runtime.alerts
        operator = await rig.runtime.services.accounts.actor_for(None, Channel.CLI)
        alert, _ = await alerts.service.create(operator, AlertDraft(
            kind=Kind.WEATHER, severity=Severity.RED, template_key="weather_warning", params=WARNING,
            regions=("330282",)))
        assert alert.urgent
        await alerts.fanout.fan_out(alert.id)
        store = rig.runtime.services.store
        keys = {f"alert:{alert.id}:{uid}{suffix}" for uid in (user_id, sms_only, lapsed) for suffix in ("", ":wechat")}
        found = {key: row.address for key in keys if (row := await store.outbox_by_key(key)) is not None}
        assert found == {f"alert:{alert.id}:{user_id}": PHONE, f"alert:{alert.id}:{user_id}:wechat": OPENID,
                         f"alert:{alert.id}:{sms_only}": "13900000018", f"alert:{alert.id}:{lapsed}": "13900000019"}
        await rig.deliver()
        await alerts.fanout.finish()
        done = await store.get_alert(alert.id)
        assert done is not None and done.recipients == 3
        assert (await store.alert_progress(alert.id)).sent == 3        # SMS copies: what is billed
        assert rig.api.texts == [(OPENID, wording.render("weather_warning", WARNING))]
        assert done.status.value == "sent" and done.cost_yuan == pytest.approx(3 * done.price * done.segments)
