"""Binding an openid to a real-name account: 绑定 phone, the code by SMS, the code in WeChat;
expiry, wrong codes and the lock, unregistered phones, 解绑, and the message record."""

from __future__ import annotations

import json
from datetime import timedelta

from farmer_mailbox import wording
from farmer_mailbox.clock import ManualClock
from tests.wechat.conftest import Start
from tests.wechat.service_rig import WechatRig

OPENID = "o_wang_xiuying_000000000000"
PHONE = "13900000011"


def say(key: str, **params: object) -> str:
    return wording.render(key, {k: str(v) for k, v in params.items()})


async def events(rig: WechatRig, *kinds: str) -> list[tuple[str, str, int | None]]:
    """(what, openid, user id) of the record's WeChat binding events, oldest first."""
    entries = await rig.runtime.services.store.record_tail(200)
    return [(e.text, e.address, e.user_id) for e in reversed(entries)
            if e.kind == "event" and e.channel == "wechat" and (not kinds or e.text in kinds)]


async def test_binding_by_sms_code_then_help_in_wechat(start: Start) -> None:
    async with start() as rig:
        user_id = await rig.register(PHONE, name="王秀英")
        asked = await rig.text(OPENID, f"绑定 {PHONE}")
        assert asked.text == say("wechat_code_sent", phone_masked="139****0011", minutes=10)
        await rig.deliver()
        [sms] = [s for s in rig.sms.sent if s.to == PHONE]
        code = rig.last_code(PHONE)
        assert sms.text == say("bind_code", code=code, minutes=10)

        bound = await rig.text(OPENID, code)
        assert bound.text == say("wechat_bound", name="王秀英", phone_masked="139****0011")
        binding = await rig.runtime.services.store.binding_of_openid(OPENID)
        assert binding is not None and (binding.user_id, binding.subscribed) == (user_id, True)
        assert await events(rig) == [("wechat_bind_code", OPENID, user_id), ("wechat_bind", OPENID, user_id)]

        helped = await rig.text(OPENID, "帮助")      # now the same commands as by SMS
        assert helped.text == say("help")
        assert await rig.scalar("SELECT user_id FROM inbound ORDER BY id DESC LIMIT 1") == user_id
        assert rig.api.texts == []                   # every answer was a passive reply


async def test_the_code_is_never_kept_in_clear(start: Start) -> None:
    async with start() as rig:
        await rig.register(PHONE)
        await rig.text(OPENID, f"绑定 {PHONE}")
        await rig.deliver()
        code = rig.last_code(PHONE)
        stored = await rig.scalar("SELECT code_hash FROM wechat_codes WHERE openid = ?", OPENID)
        assert len(stored) == 64 and code not in stored
        await rig.text(OPENID, code)
        assert await rig.scalar("SELECT COUNT(*) FROM wechat_codes") == 0
        params = json.loads(await rig.scalar("SELECT params FROM outbox WHERE template_key = 'bind_code'"))
        assert params == {"code": "******", "minutes": "10"}
        outbound = await rig.scalar("SELECT text FROM message_log WHERE kind = 'outbound' AND address = ?", PHONE)
        assert "******" in outbound and code not in outbound
        dump = await rig.scalar("SELECT group_concat(text || detail, '|') FROM message_log WHERE kind != 'inbound'")
        assert code not in dump


async def test_an_unregistered_phone_gets_the_same_answer_and_no_sms(start: Start) -> None:
    async with start() as rig:
        asked = await rig.text(OPENID, "绑定 13900000099")
        assert asked.text == say("wechat_code_sent", phone_masked="139****0099", minutes=10)
        await rig.deliver()
        assert rig.sms.sent == [] and await rig.scalar("SELECT COUNT(*) FROM wechat_codes") == 0
        assert (await rig.text(OPENID, "绑定")).text == say("wechat_bind_usage")
        assert (await rig.text(OPENID, "绑定 12345")).text == say("wechat_bind_usage")


async def test_an_unbound_openid_is_told_how_to_bind(start: Start) -> None:
    async with start() as rig:
        await rig.register(PHONE)
        for text in ("帮助", "卖 土鸡蛋300斤", "123456"):
            expected = "wechat_code_expired" if text == "123456" else "wechat_unbound"
            assert (await rig.text(OPENID, text)).text == say(expected)
        await rig.deliver()
        assert rig.sms.sent == [] and await rig.scalar("SELECT COUNT(*) FROM wechat_bindings") == 0


async def test_a_code_expires_after_ten_minutes(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        await rig.register(PHONE)
        await rig.text(OPENID, f"绑定 {PHONE}")
        await rig.deliver()
        code = rig.last_code(PHONE)
        clock.advance(timedelta(minutes=10, seconds=1))
        assert (await rig.text(OPENID, code)).text == say("wechat_code_expired")
        assert await rig.runtime.services.store.binding_of_openid(OPENID) is None
        await rig.text(OPENID, f"绑定 {PHONE}")       # a new code works
        await rig.deliver()
        fresh = rig.last_code(PHONE)
        clock.advance(timedelta(minutes=9))
        assert (await rig.text(OPENID, fresh)).text.startswith("绑定成功")


async def test_a_new_code_is_sent_at_most_once_a_minute(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        await rig.register(PHONE)
        await rig.text(OPENID, f"绑定 {PHONE}")
        clock.advance(timedelta(seconds=20))
        assert (await rig.text(OPENID, f"绑定 {PHONE}")).text == say("wechat_code_wait", seconds=40)
        clock.advance(timedelta(seconds=40))
        await rig.text(OPENID, f"绑定 {PHONE}")
        await rig.deliver()
        [sms] = rig.sms.sent                          # the first code was void before it went out
        assert await rig.scalar("SELECT status || ' ' || params FROM outbox WHERE template_key = 'bind_code' "
                                "ORDER BY id LIMIT 1") == 'cancelled {"code":"******","minutes":"10"}'
        assert (await rig.text(OPENID, sms.params["code"])).text.startswith("绑定成功")


async def test_five_wrong_codes_lock_binding_for_an_hour(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        user_id = await rig.register(PHONE)
        await rig.text(OPENID, f"绑定 {PHONE}")
        await rig.deliver()
        code = rig.last_code(PHONE)
        wrong = "000000" if code != "000000" else "111111"
        answers = [(await rig.text(OPENID, wrong)).text for _ in range(5)]
        assert answers == [say("wechat_code_wrong", left=n) for n in (4, 3, 2, 1)] + [say("wechat_locked", minutes=60)]
        assert (await rig.text(OPENID, code)).text == say("wechat_locked", minutes=60)   # even the right one
        clock.advance(timedelta(minutes=30))
        assert (await rig.text(OPENID, f"绑定 {PHONE}")).text == say("wechat_locked", minutes=30)
        await rig.deliver()
        assert len(rig.sms.sent) == 1
        assert await events(rig, "wechat_bind_locked") == [("wechat_bind_locked", OPENID, user_id)]

        clock.advance(timedelta(minutes=30, seconds=1))          # the hour is over: a fresh start
        assert (await rig.text(OPENID, code)).text == say("wechat_code_expired")
        bound = await rig.bind(OPENID, PHONE)
        assert bound.text.startswith("绑定成功")


async def test_wrong_codes_count_across_new_codes(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        await rig.register(PHONE)
        await rig.text(OPENID, f"绑定 {PHONE}")
        await rig.deliver()
        first = rig.last_code(PHONE)
        for _ in range(3):
            await rig.text(OPENID, f"{(int(first) + 1) % 1_000_000:06d}")
        clock.advance(timedelta(minutes=2))
        await rig.text(OPENID, f"绑定 {PHONE}")
        await rig.deliver()
        code = rig.last_code(PHONE)
        assert (await rig.text(OPENID, f"{(int(code) + 1) % 1_000_000:06d}")).text == say("wechat_code_wrong", left=1)


async def test_unbind_is_recorded_and_the_openid_is_a_stranger_again(start: Start) -> None:
    async with start() as rig:
        user_id = await rig.register(PHONE)
        await rig.bind(OPENID, PHONE)
        assert (await rig.text(OPENID, f"绑定 {PHONE}")).text == say("wechat_already_bound", phone_masked="139****0011")
        assert (await rig.text(OPENID, "解绑")).text == say("wechat_unbind_ok", phone_masked="139****0011")
        assert (await rig.text(OPENID, "帮助")).text == say("wechat_unbound")
        assert await events(rig, "wechat_bind", "wechat_unbind") == [
            ("wechat_bind", OPENID, user_id), ("wechat_unbind", OPENID, user_id)]


async def test_binding_another_wechat_replaces_the_first(start: Start, clock: ManualClock) -> None:
    async with start() as rig:
        user_id = await rig.register(PHONE)
        await rig.bind(OPENID, PHONE)
        clock.advance(timedelta(minutes=1))          # one code per phone per minute
        await rig.bind("o_new_phone_000000000000000", PHONE)
        assert (await rig.text(OPENID, "帮助")).text == say("wechat_unbound")
        assert (await rig.text("o_new_phone_000000000000000", "帮助")).text == say("help")
        assert await events(rig, "wechat_bind", "wechat_unbind") == [
            ("wechat_bind", OPENID, user_id), ("wechat_unbind", OPENID, user_id),
            ("wechat_bind", "o_new_phone_000000000000000", user_id)]
