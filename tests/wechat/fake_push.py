"""Pushes built the way WeChat's servers send them to our `/wechat` URL, for tests.

`WechatPusher` signs the query (`signature`, `timestamp`, `nonce`; in safe mode also
`encrypt_type=aes` and `msg_signature`) and builds the XML body (encrypted in safe mode).
It returns framework-neutral WebhookRequests; `.query` and `.body` feed an aiohttp test client:

    pusher = WechatPusher(token="tok", appid="wx123", encoding_aes_key=KEY)
    req = pusher.text("o_farmer_openid", "卖 玉米 5吨", msg_id="1001", create_time=1_700_000_000)
    resp = await client.post("/wechat", params=req.query, data=req.body)

A WeChat retry is the same message pushed again (`pusher.text(...)` with the same msg_id and
create_time): the query's timestamp/nonce and, in safe mode, the ciphertext differ each time.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateways import WebhookRequest
from gateways.wechat_crypto import aes_key, encrypt, sha1_signature
from gateways.wechat_xml import build_xml

_counter = itertools.count(1)


@dataclass
class WechatPusher:
    """Builds signed (and, with an EncodingAESKey, encrypted) WeChat pushes."""

    token: str
    appid: str = "wx0000000000000000"
    encoding_aes_key: str | None = None
    account_id: str = "gh_0000000000ab"
    path: str = "/wechat"
    timestamp: int = 1_700_000_000
    sent: list[WebhookRequest] = field(default_factory=list)

    def _next_query(self) -> dict[str, str]:
        n = next(_counter)
        return {"timestamp": str(self.timestamp + n), "nonce": str(100_000 + n)}

    def verification(self, echostr: str = "4375120948345356249") -> WebhookRequest:
        """The GET URL verification WeChat sends when the URL is configured."""
        query = self._next_query()
        query["signature"] = sha1_signature(self.token, query["timestamp"], query["nonce"])
        query["echostr"] = echostr
        return WebhookRequest("GET", self.path, query, {}, b"")

    def push(self, fields: Mapping[str, str | int]) -> WebhookRequest:
        """Sign (and in safe mode encrypt) one message given as ordered XML fields."""
        return self.push_bytes(build_xml(fields).encode("utf-8"))

    def push_bytes(self, xml: bytes) -> WebhookRequest:
        """Sign (and in safe mode encrypt) a raw XML body."""
        query = self._next_query()
        query["signature"] = sha1_signature(self.token, query["timestamp"], query["nonce"])
        body = xml
        if self.encoding_aes_key:
            ciphertext = encrypt(aes_key(self.encoding_aes_key), xml, self.appid, os.urandom(16))
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sha1_signature(
                self.token, query["timestamp"], query["nonce"], ciphertext
            )
            body = build_xml({"ToUserName": self.account_id, "Encrypt": ciphertext}).encode("utf-8")
        req = WebhookRequest("POST", self.path, query, {"Content-Type": "text/xml"}, body)
        self.sent.append(req)
        return req

    def text(self, openid: str, content: str, *, msg_id: str, create_time: int) -> WebhookRequest:
        """A user's text message (接收普通消息 文本消息)."""
        return self.push(
            {
                "ToUserName": self.account_id,
                "FromUserName": openid,
                "CreateTime": create_time,
                "MsgType": "text",
                "Content": content,
                "MsgId": msg_id,
            }
        )

    def event(self, openid: str, event: str, *, create_time: int, **extra: str) -> WebhookRequest:
        """An event push (subscribe, unsubscribe, CLICK, ...), extra fields after Event."""
        fields: dict[str, str | int] = {
            "ToUserName": self.account_id,
            "FromUserName": openid,
            "CreateTime": create_time,
            "MsgType": "event",
            "Event": event,
        }
        fields.update(extra)
        return self.push(fields)

    def template_finish(self, openid: str, msg_id: str, status: str, *, create_time: int) -> WebhookRequest:
        """The TEMPLATESENDJOBFINISH report for a template message we sent."""
        return self.event(
            openid, "TEMPLATESENDJOBFINISH", create_time=create_time, MsgID=msg_id, Status=status
        )
