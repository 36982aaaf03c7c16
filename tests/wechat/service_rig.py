"""The whole service with a WeChat account: create_app on a real SQLite file, a memory SMS gateway,
the WeChat gateway talking to FakeWechatApi on 127.0.0.1, and WechatPusher signing pushes.

    async with wechat_service(db_path, clock) as rig:
        answer = await rig.text(OPENID, "帮助")        # POST /wechat, returns status and passive text
        await rig.deliver()                              # the outbox dispatches what is due
        rig.api.texts, rig.sms.sent                      # what WeChat and the SMS gateway got

The Runtime runs without background workers unless asked (`workers=True`), so tests decide when
the outbox dispatches; the /wechat handler processes the message itself for the passive reply.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.app import create_app
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.models import Channel
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.store import SqliteStore
from farmer_mailbox.web.keys import RUNTIME
from farmer_mailbox.web.wechat import WECHAT, WechatEndpoint
from farmer_mailbox.wechat.passive import PassiveReplies
from gateways import Gateway, GatewaySettings, WebhookRequest
from gateways.memory import MemoryGateway
from gateways.wechat import WechatGateway
from gateways.wechat_crypto import aes_key, decrypt
from gateways.wechat_xml import parse_fields
from tests.helpers import TEST_ENV, YANGGAO, make_config, valid_id
from tests.wechat.fake_api import FakeWechatApi
from tests.wechat.fake_push import WechatPusher

APPID, SECRET, TOKEN = "wx5e1f0a2b3c4d5e6f", "app-secret-for-tests", "farmer-mailbox-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_farmermailbox"
SUCCESS = "success"
_serials = itertools.count(100)


@dataclass
class Answer:
    """What /wechat answered: HTTP status, and the passive reply's text ("success" when none)."""

    status: int
    text: str
    raw: bytes = b""


@dataclass
class WechatRig:
    """The service under test and its two channels."""

    client: TestClient[Any, Any]
    runtime: Runtime
    sms: MemoryGateway
    api: FakeWechatApi
    pusher: WechatPusher
    clock: ManualClock
    msg_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_000_000))

    def now_ts(self) -> int:
        """The service clock as a WeChat CreateTime."""
        return int(self.clock.now().timestamp())

    async def post(self, req: WebhookRequest) -> Answer:
        """POST a push to /wechat as WeChat does; decode the passive reply if there is one."""
        resp = await self.client.post("/wechat", params=dict(req.query), data=req.body,
                                      headers={"Content-Type": "text/xml"})
        raw = await resp.read()
        return Answer(resp.status, self._reply_text(raw), raw)

    def _reply_text(self, raw: bytes) -> str:
        if not raw.startswith(b"<xml>"):
            return raw.decode("utf-8", "replace")
        fields = parse_fields(raw)
        if "Encrypt" in fields:
            xml, appid = decrypt(aes_key(self.pusher.encoding_aes_key or ""), fields["Encrypt"])
            assert appid == self.pusher.appid
            fields = parse_fields(xml)
        return fields.get("Content", "")

    async def text(self, openid: str, content: str, *, msg_id: str | None = None) -> Answer:
        """A user's text message in WeChat."""
        mid = msg_id or str(next(self.msg_ids))
        return await self.post(self.pusher.text(openid, content, msg_id=mid, create_time=self.now_ts()))

    async def event(self, openid: str, event: str, *, create_time: int | None = None) -> Answer:
        """A subscribe / unsubscribe / other event push."""
        return await self.post(self.pusher.event(openid, event, create_time=create_time or self.now_ts()))

    async def sms_in(self, phone: str, text: str) -> int:
        """A text message from a phone through the SMS webhook (/hooks/mem/inbound); the HTTP status."""
        req = self.sms.inbound_request(phone, text)
        resp = await self.client.post("/hooks/mem/inbound", data=req.body, headers=dict(req.headers))
        return resp.status

    @property
    def passive(self) -> PassiveReplies:
        """The /wechat endpoint's passive-reply machinery."""
        assert self.client.app is not None
        endpoint: WechatEndpoint | None = self.client.app[WECHAT]
        assert endpoint is not None
        return endpoint.passive

    async def deliver(self) -> int:
        """Dispatch everything due through the gateways."""
        return await self.runtime.outbox.drain()

    async def register(self, phone: str, name: str = "王秀英", village: str = YANGGAO) -> int:
        """A real-name farmer registered by an operator."""
        accounts = self.runtime.services.accounts
        operator = await accounts.actor_for(None, Channel.CLI)
        form = RegistrationForm(name, valid_id(serial=next(_serials)), phone, village)
        user = await accounts.register(operator, form)
        return user.id

    def last_code(self, phone: str) -> str:
        """The binding code in the latest SMS to a phone."""
        texts = [s.text for s in self.sms.sent if s.to == phone and s.template_key == "bind_code"]
        found = re.search(r"\d{6}", texts[-1])
        assert found, texts
        return found.group()

    async def bind(self, openid: str, phone: str) -> Answer:
        """The whole binding: 绑定 phone in WeChat, the code by SMS, the code back in WeChat."""
        await self.text(openid, f"绑定 {phone}")
        await self.deliver()
        return await self.text(openid, self.last_code(phone))

    async def scalar(self, sql: str, *params: object) -> Any:
        """One value from the database (test inspection)."""
        store = self.runtime.services.store
        assert isinstance(store, SqliteStore)
        return await store.scalar(sql, params)


@asynccontextmanager
async def wechat_service(db_path: Path, clock: ManualClock, *, tree: RegionTree | None = None, safe_mode: bool = False,
                         workers: bool = False, gateway: dict[str, Any] | None = None,
                         **wechat: Any) -> AsyncIterator[WechatRig]:
    """Start the app with a memory SMS gateway and a WeChat gateway on the fake API.

    `gateway` overrides WeChat gateway options; other keywords go to the [wechat] config section.
    """
    config = make_config(db_path, wechat=wechat)
    async with FakeWechatApi(appid=APPID, secret=SECRET) as api, httpx.AsyncClient() as http:
        options: dict[str, Any] = {"token": TOKEN, "appid": APPID, "secret": SECRET, "api_base": api.base_url,
                                   "account_id": ACCOUNT}
        if safe_mode:
            options["encoding_aes_key"] = AES_KEY
        options.update(gateway or {})
        sms = MemoryGateway(GatewaySettings("mem", "memory", {}), http)
        gateways: dict[str, Gateway] = {"mem": sms,
                                        "wechat": WechatGateway(GatewaySettings("wechat", "wechat", options), http)}
        app = create_app(config, gateways=gateways, clock=clock, env=TEST_ENV, workers=workers, tree=tree)
        pusher = WechatPusher(options["token"], options["appid"], encoding_aes_key=options.get("encoding_aes_key"),
                              account_id=ACCOUNT)
        async with TestClient(TestServer(app)) as client:
            yield WechatRig(client, app[RUNTIME], sms, api, pusher, clock)
