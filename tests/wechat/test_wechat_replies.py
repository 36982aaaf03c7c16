"""Passive reply or customer-service API, never both; subscribe and unsubscribe; non-text messages."""

from __future__ import annotations

import asyncio

from farmer_mailbox import wording
from farmer_mailbox.outbox import Message
from tests.wechat.conftest import Start
from tests.wechat.service_rig import SUCCESS, WechatRig

OPENID = "o_li_ming_0000000000000000000"
PHONE = "13900000012"
HELP = wording.render("help", {})


async def bound(rig: WechatRig) -> int:
    user_id = await rig.register(PHONE, name="李明")
    assert (await rig.bind(OPENID, PHONE)).text.startswith("绑定成功")
    return user_id


async def test_an_answer_ready_in_time_is_the_passive_reply_and_is_not_sent_again(start: Start) -> None:
    async with start(workers=True) as rig:            # the dispatcher is running and polling
        answer = await rig.text(OPENID, "帮助")
        assert (answer.status, answer.text) == (200, wording.render("wechat_unbound", {}))
        await asyncio.sleep(0.6)                       # a dispatcher poll or two
        await rig.deliver()
        assert rig.api.texts == []
        row = await rig.scalar("SELECT status || ' ' || gateway || ' ' || external_id || ' ' || segments FROM outbox")
        assert row == "sent wechat passive:1 0"          # a WeChat message bills no SMS segments
        entry = await rig.scalar("SELECT text FROM message_log WHERE kind = 'outbound'")
        assert entry == answer.text                    # the passive reply is in the message record


async def test_a_late_answer_goes_through_the_customer_service_api_once(start: Start) -> None:
    async with start(passive_reply_seconds=0.3) as rig:
        await bound(rig)
        async with rig.runtime.services.store.transaction():    # the database is busy past the budget
            posting = asyncio.create_task(rig.text(OPENID, "帮助", msg_id="8000000000000000001"))
            await asyncio.sleep(0.5)
        answer = await posting
        assert (answer.status, answer.text) == (200, SUCCESS)
        await rig.passive.close()                      # processing went on after the answer
        await rig.deliver()
        assert rig.api.texts == [(OPENID, HELP)]
        retry = await rig.text(OPENID, "帮助", msg_id="8000000000000000001")   # WeChat tries again
        assert retry.text == SUCCESS
        await rig.deliver()
        assert rig.api.texts == [(OPENID, HELP)] and await rig.scalar("SELECT COUNT(*) FROM inbound "
                                                                       "WHERE external_id LIKE '8%'") == 1
        assert rig.api.violations == []


async def test_with_no_budget_every_answer_goes_by_the_api(start: Start) -> None:
    async with start(passive_reply_seconds=0) as rig:
        answer = await rig.text(OPENID, "你好")
        assert answer.text == SUCCESS
        await rig.passive.close()
        await rig.deliver()
        assert rig.api.texts == [(OPENID, wording.render("wechat_unbound", {}))]


async def test_unsubscribe_stops_wechat_pushes_and_sms_continues(start: Start) -> None:
    async with start() as rig:
        user_id = await bound(rig)
        notice = Message(idem_key="match:1", purpose="match", address=PHONE, template_key="help", params={},
                         user_id=user_id)
        await rig.runtime.outbox.send_now(notice)                  # bound and in the window: WeChat
        assert await rig.scalar("SELECT channel FROM outbox WHERE idem_key = 'match:1'") == "wechat"

        assert (await rig.event(OPENID, "unsubscribe")).text == SUCCESS
        binding = await rig.runtime.services.store.binding_of_openid(OPENID)
        assert binding is not None and not binding.subscribed     # kept, inactive
        await rig.runtime.outbox.send_now(Message("match:2", "match", PHONE, "help", {}, user_id))   # SMS now
        await rig.deliver()
        assert rig.api.texts == []
        assert [s.to for s in rig.sms.sent if s.template_key == "help"] == [PHONE, PHONE]   # the waiting one too
        record = await rig.runtime.services.store.record_for_user(user_id)
        assert "wechat_unsubscribe" in [e.text for e in record]

        back = await rig.event(OPENID, "subscribe")
        assert back.text == wording.render("wechat_welcome_back", {"phone_masked": "139****0012"})
        assert (await rig.text(OPENID, "帮助")).text == HELP       # still bound
        assert "wechat_subscribe" in [e.text for e in await rig.runtime.services.store.record_for_user(user_id)]


async def test_pictures_and_voice_get_asked_for_text(start: Start) -> None:
    async with start() as rig:
        await bound(rig)
        image = rig.pusher.push({"ToUserName": "gh_x", "FromUserName": OPENID, "CreateTime": rig.now_ts(),
                                 "MsgType": "image", "PicUrl": "http://example.invalid/p.jpg", "MediaId": "m",
                                 "MsgId": "5000000000000000001"})
        assert (await rig.post(image)).text == wording.render("wechat_text_only", {})
        menu = rig.pusher.event(OPENID, "CLICK", create_time=rig.now_ts(), EventKey="MENU_1")
        assert (await rig.post(menu)).text == SUCCESS             # no menu configured: nothing to say
