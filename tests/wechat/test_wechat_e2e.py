"""End to end on the running service (background dispatcher and inbox): bind by SMS code, then use
the same mailbox in WeChat; and, once the marketplace is merged, a WeChat seller matched by SMS."""

from __future__ import annotations

import asyncio
import re

from farmer_mailbox import wording
from gateways import OutboundSms
from tests.helpers import SHANXIA
from tests.wechat.conftest import Start
from tests.wechat.service_rig import WechatRig

OPENID = "o_e2e_farmer_0000000000000000"
PHONE = "13900000016"
BUYER = "13900000017"


async def sms_to(rig: WechatRig, phone: str, timeout: float = 5.0) -> OutboundSms:
    """The first SMS the running dispatcher sends to a phone."""
    for _ in range(int(timeout / 0.02)):
        sent = [s for s in rig.sms.sent if s.to == phone]
        if sent:
            return sent[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no SMS to {phone} within {timeout} s")


async def test_a_wechat_user_binds_by_sms_code_and_gets_help_in_wechat(start: Start) -> None:
    async with start(workers=True) as rig:
        await rig.register(PHONE, name="陈建国")
        assert (await rig.event(OPENID, "subscribe")).text == wording.render("wechat_welcome", {})
        await rig.text(OPENID, f"绑定 {PHONE}")
        code_sms = await sms_to(rig, PHONE)
        code = re.search(r"\d{6}", code_sms.text)
        assert code is not None
        assert (await rig.text(OPENID, code.group())).text.startswith("绑定成功")
        assert (await rig.text(OPENID, "帮助")).text == wording.render("help", {})
        assert rig.api.texts == [] and rig.api.violations == []


async def test_a_wechat_seller_is_matched_with_an_sms_buyer_through_the_api(start: Start) -> None:
    async with start() as rig:
        await rig.register(PHONE, name="陈建国")
        await rig.register(BUYER, name="徐国庆", village=SHANXIA)
        assert (await rig.bind(OPENID, PHONE)).text.startswith("绑定成功")
        posted = await rig.text(OPENID, "卖 土鸡蛋300斤")
        assert posted.status == 200
        [confirmation] = [r for r in await rig.runtime.services.store.outbox_for_address(OPENID)
                          if r.template_key == "posted"]
        assert posted.text == wording.render("posted", confirmation.params, "wechat")
        assert "短信" not in posted.text and "会通知您" in posted.text    # the follow-up may come by WeChat
        await rig.passive.close()
        assert await rig.sms_in(BUYER, "买鸡蛋") == 200
        await rig.runtime.inbox.drain()
        await rig.deliver()
        [notice] = [r for r in await rig.runtime.services.store.outbox_for_address(OPENID)
                    if r.template_key == "match_notice"]
        assert notice.status == "sent" and notice.params["what"].startswith("求购鸡蛋")
        to_seller = [text for to, text in rig.api.texts if to == OPENID]
        assert to_seller == [wording.render("match_notice", notice.params, "wechat")]
