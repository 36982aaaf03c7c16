"""`aliyun`: Alibaba Cloud SMS (dysmsapi 2017-05-25) — SendSms signed with ACS3-HMAC-SHA256.

Mainland SMS is template-only: `templates` maps our template keys to approved TemplateCodes and
`TemplateParam` is a JSON *string* whose values must all be strings (help.aliyun.com/document_detail/
419273). The signature Aliyun prepends is `【SignName】` and the bill counts it (70 / 67 rule,
document_detail/44335). SendSms is not idempotent: the outbox dedupes, and `OutId` carries our
outbox id so a receipt can be matched by hand.

Pushes (SmsReport, SmsUp; console-configured, document_detail/101867 and smsup-http) are JSON
arrays and carry no signature, so their URL must carry our `webhook_token` as ?token=. The answer
Aliyun expects is `{"code":0,"msg":"接收成功"}`; anything else is retried.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from gateways import (
    Capabilities,
    DeliveryReceipt,
    GatewaySettings,
    InboundSms,
    OutboundSms,
    ReceiptStatus,
    SendError,
    SendResult,
    WebhookError,
    WebhookKind,
    WebhookRequest,
)
from gateways.common import (
    Options,
    call,
    check_token,
    china_time,
    field,
    json_ack,
    json_objects,
    response_json,
    template_missing,
)
from gateways.options import RATE, TIMEOUT, WEBHOOK_TOKEN, Option, declare
from gateways.segments import mainland_segments
from gateways.signing import acs3_authorization, acs3_query, sha256_hex

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
BATCH_LIMIT = 100

OPTIONS = declare(
    Option("access_key_id", "string", None, "the AccessKey ID (a RAM user's, with SMS rights only)", required=True),
    Option("secret", "secret", None, "the AccessKey secret", required=True),
    Option("sign_name", "string", None, "the approved SignName; Aliyun prepends and bills 【SignName】",
           required=True),
    Option("templates", "table", None, "our message kind -> approved TemplateCode, for every kind that can go "
           "by SMS", required=True),
    WEBHOOK_TOKEN,
    Option("endpoint", "string", DEFAULT_ENDPOINT, "the dysmsapi endpoint"),
    TIMEOUT, RATE,
)

# Codes where waiting helps: per-number flow control (1/min, 5/h, 10/day), platform faults,
# gateway throttling. Everything else in isv.* is a fault of the message or the account.
RETRYABLE_CODES = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "ServiceUnavailable"}
)


def send_error(code: str, message: str, http_status: int) -> SendError:
    """Map an Aliyun error code onto a SendError with its retry policy."""
    retryable = code in RETRYABLE_CODES or code.startswith(("isp.", "Throttling")) or http_status >= 500
    return SendError(code or f"http_{http_status}", message, retryable=retryable)


def template_param(params: Mapping[str, Any]) -> str:
    """TemplateParam: a JSON object string whose values are all strings."""
    return json.dumps({key: str(value) for key, value in params.items()}, ensure_ascii=False)


class AliyunGateway:
    """Send approved templates through Aliyun SMS and read its SmsReport / SmsUp pushes."""

    OPTIONS = OPTIONS

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        options = Options(settings, OPTIONS)
        self.name = settings.name
        self._client = client
        self._key_id = options.string("access_key_id")
        self._secret = options.string("secret")
        self._sign_name = options.string("sign_name")
        self._templates = options.str_map("templates", required=True)
        self._token = options.string("webhook_token")
        self._endpoint = httpx.URL(options.string("endpoint"))
        self._timeout = options.timeout()
        self._capabilities = options.capabilities(
            templates=frozenset(self._templates), signature=f"【{self._sign_name}】"
        )

    def capabilities(self) -> Capabilities:
        """Template-only; the billed signature is 【SignName】."""
        return self._capabilities

    async def send(self, sms: OutboundSms) -> SendResult:
        """SendSms for one number; the result's id is Aliyun's BizId."""
        query = {
            "PhoneNumbers": sms.to,
            "SignName": self._sign_name,
            "TemplateCode": self._template_code(sms.template_key),
            "OutId": str(sms.outbox_id),
        }
        if sms.params:
            query["TemplateParam"] = template_param(sms.params)
        data = await self._call("SendSms", query)
        segments = mainland_segments(self._capabilities.signature, sms.text)
        return SendResult((str(data.get("BizId", "")),), segments)

    async def send_batch(self, template_key: str, messages: Sequence[tuple[str, Mapping[str, str]]]) -> str:
        """SendBatchSms: one template to up to 100 (number, params) pairs; returns the BizId."""
        if not 0 < len(messages) <= BATCH_LIMIT:
            raise ValueError(f"SendBatchSms takes 1 to {BATCH_LIMIT} numbers, got {len(messages)}")
        query = {
            "PhoneNumberJson": json.dumps([to for to, _ in messages]),
            "SignNameJson": json.dumps([self._sign_name] * len(messages), ensure_ascii=False),
            "TemplateCode": self._template_code(template_key),
            "TemplateParamJson": json.dumps(
                [{k: str(v) for k, v in params.items()} for _, params in messages], ensure_ascii=False
            ),
        }
        data = await self._call("SendBatchSms", query)
        return str(data.get("BizId", ""))

    def _template_code(self, template_key: str) -> str:
        code = self._templates.get(template_key)
        if code is None:
            raise template_missing(template_key)
        return code

    async def _call(self, action: str, query: dict[str, str]) -> Mapping[str, Any]:
        response = await call(self._client, self._signed_request(action, query), self._timeout)
        data = response_json(response)
        if not isinstance(data, dict):
            raise send_error("", "answer is not a JSON object", response.status_code)
        if data.get("Code") != "OK":
            raise send_error(
                str(data.get("Code") or ""), str(data.get("Message") or ""), response.status_code
            )
        return data

    def _signed_request(self, action: str, query: Mapping[str, str]) -> httpx.Request:
        """An RPC-style V3 request: parameters in the query, empty body, signed headers."""
        body = b""
        headers = {
            "host": self._endpoint.netloc.decode("ascii"),
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": sha256_hex(body),
        }
        path = self._endpoint.path or "/"
        authorization = acs3_authorization(
            method="POST",
            path=path,
            query=query,
            headers=headers,
            body=body,
            access_key_id=self._key_id,
            secret=self._secret,
        )
        # The query goes on the wire exactly as it was signed (RFC 3986, sorted).
        url = str(self._endpoint.copy_with(query=None)) + "?" + acs3_query(query)
        headers |= {"Authorization": authorization, "Accept": "application/json"}
        return self._client.build_request("POST", url, headers=headers, content=body)

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """SmsReport push: `success` true is delivered, false is failed (err_code says why)."""
        check_token(req, self._token)
        receipts = []
        for index, item in enumerate(json_objects(req)):
            where = f"item {index}"
            success = item.get("success")
            if not isinstance(success, bool):
                raise WebhookError(400, f"{where}: success must be true or false")
            detail = " ".join(str(item.get(key) or "") for key in ("err_code", "err_msg")).strip()
            status: ReceiptStatus = "delivered" if success else "failed"
            receipts.append(DeliveryReceipt(field(item, "biz_id", where), status, detail))
        return receipts

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """SmsUp push: phone_number, content, send_time (Beijing time), dest_code, sequence_id."""
        check_token(req, self._token)
        messages = []
        for index, item in enumerate(json_objects(req)):
            where = f"item {index}"
            messages.append(
                InboundSms(
                    sender=field(item, "phone_number", where),
                    text=field(item, "content", where),
                    external_id=field(item, "sequence_id", where),  # a number in old docs, a string now
                    received_at=china_time(field(item, "send_time", where), where),
                    recipient=str(item.get("dest_code") or ""),
                )
            )
        return messages

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Aliyun checks only that `code` is the number 0; any other answer is retried."""
        return json_ack({"code": 0, "msg": "接收成功"})
