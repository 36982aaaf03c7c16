"""One `Case` per gateway type: how to build it against its fake, and how to make it fail.

The contract suite (test_gateway_contract.py) runs every case through the same checks, and
the recorded-payload tables under payloads/<type>/cases.json through `parse_inbound` and
`parse_receipt`. A case's fake is anything with the `ProviderFake` shape: the FakeProvider
servers of fakes.py, or wechat_case.FakeWechat around tests/wechat's fake WeChat API.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

import httpx
from aiohttp import web
from twilio.request_validator import RequestValidator

from gateways import Gateway, GatewaySettings, OutboundSms, WebhookRequest, load_gateway
from gateways.memory import MemoryGateway
from tests.gateways.fakes import (
    FakeAggregator,
    FakeAliyun,
    FakeKannel,
    FakeTencent,
    FakeTwilio,
    json_response,
)
from tests.gateways.wechat_case import (
    WECHAT_ACCOUNT,
    WECHAT_AES_KEY,
    WECHAT_APPID,
    WECHAT_OPENID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    WECHAT_UNSUBSCRIBED,
    FakeWechat,
    sign_push,
)

TOKEN = "hook-Secret_123"
PUBLIC = "https://mailbox.example.com"
PAYLOADS = Path(__file__).parent / "payloads"

ALIYUN_KEY, ALIYUN_SECRET = "LTAI5tFAKEFAKEFAKE", "fake-aliyun-secret"
TENCENT_ID, TENCENT_KEY = "AKIDFAKEFAKEFAKEFAKE", "fake-tencent-secret"
TWILIO_SID, TWILIO_TOKEN = "AC" + "0" * 32, "fake-twilio-auth-token"
AGGREGATOR_KEY = "fake-aggregator-key"

SMS = OutboundSms(
    outbox_id=42,
    to="13800001111",
    template_key="match_notice",
    params={"product": "葡萄苗", "price": "12"},
    text="有人出售葡萄苗，价格12元，回复1查看",
    idempotency_key="match:42",
)


class ProviderFake(Protocol):
    """What the contract suite uses of a fake provider."""

    delay: float  # seconds every answer is stalled

    @property
    def base_url(self) -> str:
        """Where the fake listens: http://127.0.0.1:<port>."""
        ...

    @property
    def requests(self) -> Sequence[Any]:
        """The provider calls that carried messages, in order (a WeChat token fetch is not one)."""
        ...

    @property
    def violations(self) -> Sequence[str]:
        """What the fake refused because the gateway got it wrong."""
        ...

    @property
    def script(self) -> deque[web.Response]:
        """Answers for the next message calls, given once a call passes verification."""
        ...

    async def start(self) -> None:
        """Listen on a free loopback port."""

    async def stop(self) -> None:
        """Close the server."""


@dataclass
class Case:
    """How one gateway type is built, scripted and fed webhooks in the contract suite.

    `recipient` is the address a good message goes to (a mobile number; an openid on WeChat).
    `timeout_option` names the gateway's per-request timeout option; `timeout_code` and
    `refused_code` are the SendError codes of a timeout and of a refused connection.
    """

    type: str
    options: Callable[[str], dict[str, Any]]
    fake: Callable[[], ProviderFake] | None = None
    retry_reply: Callable[[], web.Response] | None = None
    recipient: str = SMS.to
    bad_recipient: str = "12345"
    acks: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    setup: Callable[[Gateway], None] = lambda gateway: None
    timeout_option: str = "timeout"
    timeout_code: str = "timeout"
    refused_code: str = "connection_error"

    @property
    def needs_http(self) -> bool:
        """True when the gateway talks to a (fake) provider over HTTP."""
        return self.fake is not None

    def sms(self, **changes: Any) -> OutboundSms:
        """The contract's message, sent to this case's `recipient` unless `changes` say otherwise."""
        return dataclasses.replace(SMS, **({"to": self.recipient} | changes))


def _memory_setup(gateway: Gateway) -> None:
    assert isinstance(gateway, MemoryGateway)
    gateway.fail_for("12345", code="bad_number", retryable=False)


JSON_ACK = (200, "application/json; charset=utf-8", b'{"ok":true}')

CASES = [
    Case(
        "console",
        lambda base: {"webhook_token": TOKEN, "stream": io.StringIO()},
        acks={"inbound": JSON_ACK, "receipt": JSON_ACK},
    ),
    Case(
        "memory",
        lambda base: {"webhook_token": TOKEN},
        setup=_memory_setup,
        acks={"inbound": JSON_ACK, "receipt": JSON_ACK},
    ),
    Case(
        "kannel",
        lambda base: {
            "sendsms_url": f"{base}/cgi-bin/sendsms",
            "username": "tester",
            "password": "foobar",
            "dlr_url": f"{PUBLIC}/webhooks/kannel/receipt",
            "webhook_token": TOKEN,
        },
        fake=FakeKannel,
        retry_reply=lambda: web.Response(status=503, text="Temporal failure, try again later."),
        bad_recipient="abc",
        acks={
            "inbound": (200, "text/plain; charset=utf-8", b""),
            "receipt": (200, "text/plain; charset=utf-8", b""),
        },
    ),
    Case(
        "aliyun",
        lambda base: {
            "endpoint": f"{base}/",
            "access_key_id": ALIYUN_KEY,
            "secret": ALIYUN_SECRET,
            "sign_name": "农民信箱",
            "templates": {"match_notice": "SMS_100001", "verify_code": "SMS_100002"},
            "webhook_token": TOKEN,
        },
        fake=lambda: FakeAliyun(ALIYUN_KEY, ALIYUN_SECRET),
        retry_reply=lambda: json_response({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控"}),
        acks={
            kind: (200, "application/json; charset=utf-8", '{"code":0,"msg":"接收成功"}'.encode())
            for kind in ("inbound", "receipt")
        },
    ),
    Case(
        "tencent",
        lambda base: {
            "endpoint": base,
            "secret_id": TENCENT_ID,
            "secret": TENCENT_KEY,
            "sdk_app_id": "1400000000",
            "sign_name": "农民信箱",
            "templates": {"match_notice": {"id": "1100001", "params": ["product", "price"]}},
            "webhook_token": TOKEN,
        },
        fake=lambda: FakeTencent(TENCENT_ID, TENCENT_KEY),
        retry_reply=lambda: json_response(
            {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "too many"}, "RequestId": "F"}}
        ),
        acks={
            kind: (200, "application/json; charset=utf-8", b'{"result":0,"errmsg":"OK"}')
            for kind in ("inbound", "receipt")
        },
    ),
    Case(
        "twilio",
        lambda base: {
            "endpoint": base,
            "account_sid": TWILIO_SID,
            "secret": TWILIO_TOKEN,
            "from_number": "+15005550006",
        },
        fake=lambda: FakeTwilio(TWILIO_SID, TWILIO_TOKEN),
        retry_reply=lambda: json_response(
            {"code": 20429, "message": "Too Many Requests", "status": 429}, 429
        ),
        bad_recipient="12",
        acks={
            "inbound": (
                200,
                "text/xml; charset=utf-8",
                b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
            ),
            "receipt": (200, "text/plain; charset=utf-8", b""),
        },
    ),
    Case(
        "http",
        lambda base: {
            "send_url": f"{base}/sms/send",
            "fields": {"to": "mobile", "text": "content", "outbox_id": "ref"},
            "extra": {"account": "farmer"},
            "auth_header": "X-Api-Key",
            "secret": AGGREGATOR_KEY,
            "success_field": "code",
            "success_value": "0",
            "id_path": "data.msgid",
            "error_path": "code",
            "retry_codes": ["1020"],
            "webhook_token": TOKEN,
            "inbound_fields": {
                "sender": "mobile",
                "text": "content",
                "id": "msgid",
                "time": "time",
                "to": "ext",
            },
            "receipt_fields": {"id": "msgid", "status": "stat", "detail": "desc"},
            "status_map": {"DELIVRD": "delivered", "UNDELIV": "failed", "ACCEPTD": "sent"},
            "ack_body": "SUCCESS",
        },
        fake=lambda: FakeAggregator(AGGREGATOR_KEY),
        retry_reply=lambda: json_response({"code": "1020", "msg": "too fast"}),
        acks={kind: (200, "text/plain; charset=utf-8", b"SUCCESS") for kind in ("inbound", "receipt")},
    ),
    Case(
        "wechat",
        lambda base: {
            "token": WECHAT_TOKEN,
            "appid": WECHAT_APPID,
            "secret": WECHAT_SECRET,
            "encoding_aes_key": WECHAT_AES_KEY,  # safe mode, as WeChat recommends
            "account_id": WECHAT_ACCOUNT,
            "api_base": base,
        },
        fake=lambda: FakeWechat(WECHAT_APPID, WECHAT_SECRET, unsubscribed={WECHAT_UNSUBSCRIBED}),
        retry_reply=lambda: json_response({"errcode": -1, "errmsg": "system error"}),  # system busy
        recipient=WECHAT_OPENID,
        bad_recipient=WECHAT_UNSUBSCRIBED,  # 43004 require subscribe: final, fall back to SMS
        acks={kind: (200, "text/plain; charset=utf-8", b"success") for kind in ("inbound", "receipt")},
        timeout_option="timeout_seconds",
        timeout_code="wechat.timeout",
        refused_code="wechat.network",
    ),
]
CASES_BY_TYPE = {case.type: case for case in CASES}


@dataclass
class Built:
    """A gateway under test, its case and its running fake provider (None for in-process ones)."""

    case: Case
    gateway: Gateway
    fake: ProviderFake | None


@asynccontextmanager
async def running(case: Case | str, client: httpx.AsyncClient, **overrides: Any) -> AsyncIterator[Built]:
    """Start the case's fake, build the gateway through the registry, stop the fake afterwards."""
    case = CASES_BY_TYPE[case] if isinstance(case, str) else case
    fake = case.fake() if case.fake else None
    if fake:
        await fake.start()
    try:
        options = case.options(fake.base_url if fake else "") | overrides
        gateway = load_gateway(GatewaySettings(f"{case.type}-test", case.type, options), client)
        case.setup(gateway)
        yield Built(case, gateway, fake)
    finally:
        if fake:
            await fake.stop()


# --- recorded payload tables ----------------------------------------------------------------


@dataclass(frozen=True)
class PayloadCase:
    """One row of payloads/<type>/cases.json.

    Keys: `name`, `kind` (inbound | receipt), `file` (the body; a `.query` file is a GET's
    query), then either `expect` (the parsed items, fields as named) or `status` and `reason`
    (the WebhookError). Optional: `content_type`; `token` (ok | wrong | missing) for token
    URLs; `signature` (ok | bad | missing) and `sign_url` (Twilio) for signed callbacks;
    `mode` and `appid` for WeChat (see wechat_case.sign_push); `options`, gateway options
    overriding the case's for this row.
    """

    gateway_type: str
    row: dict[str, Any]

    @property
    def id(self) -> str:
        """pytest id: type/name."""
        return f"{self.gateway_type}/{self.row['name']}"


def payload_cases() -> list[PayloadCase]:
    """Every row of every payloads/<type>/cases.json."""
    rows = []
    for table in sorted(PAYLOADS.glob("*/cases.json")):
        rows += [PayloadCase(table.parent.name, row) for row in json.loads(table.read_text("utf-8"))]
    return rows


SIGNED_TYPES = ("twilio", "wechat")  # providers that sign their callbacks: no ?token= in our URL
CONTENT_TYPES = {"wechat": "text/xml"}  # a row's default Content-Type, else application/json


def webhook_for(case: PayloadCase) -> WebhookRequest:
    """Build the WebhookRequest a row describes: body or query from its file, token, signature."""
    row = case.row
    data = (PAYLOADS / case.gateway_type / row["file"]).read_bytes()
    path = f"/webhooks/{case.gateway_type}/{row['kind']}"
    token = {"ok": TOKEN, "wrong": "not-the-token", "missing": None}[row.get("token", "ok")]
    query_pairs = [("token", token)] if token and case.gateway_type not in SIGNED_TYPES else []
    if case.gateway_type == "wechat":  # WeChat signs in the query and, in safe mode, encrypts
        query_pairs, data = sign_push(row, data)
    body = b""
    if row["file"].endswith(".query"):  # a GET (Kannel, WeChat's URL check): the file is the raw query
        raw_query = "&".join(filter(None, [urlencode(query_pairs), data.decode("ascii").strip()]))
        method = "GET"
    else:
        raw_query, method, body = urlencode(query_pairs), "POST", data
    url = f"{PUBLIC}{path}" + (f"?{raw_query}" if raw_query else "")
    content_type = row.get("content_type", CONTENT_TYPES.get(case.gateway_type, "application/json"))
    headers = {"Content-Type": content_type}
    if case.gateway_type == "twilio":
        headers |= _twilio_signature(row, url, body)
    query = dict(reversed(parse_qsl(raw_query, keep_blank_values=True)))
    return WebhookRequest(method, path, query, headers, body, url=url, remote="127.0.0.1")


def _twilio_signature(row: dict[str, Any], url: str, body: bytes) -> dict[str, str]:
    """Sign with twilio's own RequestValidator (the oracle), over `sign_url` when the row gives one."""
    mode = row.get("signature", "ok")
    if mode == "missing":
        return {}
    params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(row.get("sign_url", url), params)
    return {"X-Twilio-Signature": signature if mode == "ok" else "AAAA" + signature[4:]}
