"""One farmer on WeChat, start to finish, at the gateway level (the lead's e2e test adds the service).

URL verification, subscribe, a text message retried by WeChat, an answer through the
customer-service API, then 48 hours later a template message and its delivery report.
"""

from __future__ import annotations

import httpx

from gateways import GatewaySettings, OutboundSms
from gateways.wechat import WechatGateway
from tests.wechat.fake_api import FakeWechatApi
from tests.wechat.fake_push import WechatPusher

APPID, SECRET, TOKEN = "wx1234567890abcdef", "secret-value", "server-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "o_farmer_zhang_0000000000000"


async def test_a_wechat_farmer_gets_a_match_then_an_alert_with_a_receipt() -> None:
    async with FakeWechatApi(appid=APPID, secret=SECRET) as api, httpx.AsyncClient() as client:
        options = {
            "token": TOKEN,
            "appid": APPID,
            "secret": SECRET,
            "encoding_aes_key": AES_KEY,
            "api_base": api.base_url,
            "templates": {"match_found": {"template_id": "TPL", "fields": {"first": "_text"}}},
        }
        gw = WechatGateway(GatewaySettings("wechat", "wechat", options), client)
        wechat = WechatPusher(TOKEN, APPID, encoding_aes_key=AES_KEY, account_id="gh_farmers")

        assert gw.verify_url(wechat.verification("hello").query) == "hello"
        [sub] = gw.parse_inbound(wechat.event(OPENID, "subscribe", create_time=1_700_000_000))
        assert (sub.sender, sub.event) == (OPENID, "subscribe")

        retries = [wechat.text(OPENID, "买 玉米 10吨", msg_id="9001", create_time=1_700_000_100)] * 3
        keys = {gw.parse_inbound(req)[0].external_id for req in retries}
        assert keys == {"9001"}

        text = "有人卖玉米10吨,电话138****0000"
        await gw.send(OutboundSms(1, OPENID, "match_found", {}, text, "match-1"))
        assert api.texts == [(OPENID, text)]

        api.outside_window.add(OPENID)  # two days later
        result = await gw.send(OutboundSms(2, OPENID, "match_found", {}, "又有新货", "match-2"))
        [msgid] = result.external_ids
        report = wechat.template_finish(OPENID, msgid, "success", create_time=1_700_200_000)
        [receipt] = gw.parse_receipt(report)
        assert (receipt.external_id, receipt.status) == (msgid, "delivered")
        assert gw.parse_inbound(report) == []
