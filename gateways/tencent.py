"""`tencent`: Tencent Cloud SMS, API 3.0 SendSms (2021-01-11), signed with TC3-HMAC-SHA256.

Template-only like every mainland provider: `templates` gives, for each of our template keys,
the approved TemplateId and the order of its parameters, since `TemplateParamSet` is an ordered
list of strings (cloud.tencent.com/document/api/382/55981). Numbers go in E.164. The answer
carries one `SendStatusSet` entry per number, each with its own `Code` ("Ok" on success) and
`Fee` (billed SMS); a request-level failure is `Response.Error` (document/api/382/59177).

Callbacks (console-configured, tencentcloud.com/document/api/382/43547): the status report is a
JSON array of `{user_receive_time, nationcode, mobile, report_status: SUCCESS|FAIL, errmsg,
description, sid}`; a reply is one object `{extend, mobile, nationcode, sign, text, time}` with
no message id of its own. Neither is signed: the URL carries `webhook_token`. Answer
`{"result":0,"errmsg":"OK"}`.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
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
    e164,
    epoch_time,
    field,
    json_ack,
    json_body,
    json_objects,
    missing_params,
    response_json,
    template_missing,
)
from gateways.options import RATE, TIMEOUT, WEBHOOK_TOKEN, Option, declare
from gateways.segments import mainland_segments
from gateways.signing import tc3_authorization

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
API_VERSION = "2021-01-11"
SERVICE = "sms"
CONTENT_TYPE = "application/json; charset=utf-8"
# Frequency/daily limits, internal errors and API throttling pass with time; the rest
# (AuthFailure, FailedOperation, InvalidParameter*, UnauthorizedOperation) needs a person.
RETRYABLE_PREFIXES = ("LimitExceeded.", "InternalError", "RequestLimitExceeded")
REPORT_STATUS: dict[str, ReceiptStatus] = {"SUCCESS": "delivered", "FAIL": "failed"}

OPTIONS = declare(
    Option("secret_id", "string", None, "the API key's SecretId", required=True),
    Option("secret", "secret", None, "the API key's SecretKey", required=True),
    Option("sdk_app_id", "string", None, "the SMS application's SdkAppId", required=True),
    Option("sign_name", "string", None, "the approved signature name; Tencent prepends and bills 【sign_name】",
           required=True),
    Option("templates", "table", None, "our message kind -> {id = TemplateId, params = [our param names in the "
           "template's {1}, {2}... order]}, for every kind that can go by SMS", required=True),
    WEBHOOK_TOKEN,
    Option("region", "string", "ap-guangzhou", "the API region (X-TC-Region)"),
    Option("endpoint", "string", DEFAULT_ENDPOINT, "the SMS API endpoint"),
    TIMEOUT, RATE,
)


@dataclass(frozen=True, slots=True)
class Template:
    """A Tencent template: its TemplateId and the names of our params in TemplateParamSet order."""

    id: str
    params: tuple[str, ...]


def send_error(code: str, message: str, http_status: int = 200) -> SendError:
    """Map a Tencent error code onto a SendError with its retry policy."""
    retryable = code.startswith(RETRYABLE_PREFIXES) or http_status >= 500
    return SendError(code or f"http_{http_status}", message, retryable=retryable)


def read_templates(options: Options) -> dict[str, Template]:
    """Validate `templates`: each key a table with a string `id` and a list of string `params`."""
    templates = {}
    for key, spec in options.mapping("templates", required=True).items():
        if not isinstance(spec, Mapping):
            raise options.error(f"templates.{key}", "must be a table with id and params")
        template_id, params = spec.get("id"), spec.get("params", [])
        if not isinstance(template_id, str | int) or isinstance(template_id, bool) or not str(template_id):
            raise options.error(f"templates.{key}.id", "must be the TemplateId")
        if isinstance(params, str) or not all(isinstance(name, str) and name for name in params):
            raise options.error(f"templates.{key}.params", "must be a list of parameter names")
        templates[key] = Template(str(template_id), tuple(params))
    return templates


class TencentGateway:
    """Send approved templates through Tencent Cloud SMS and read its status and reply callbacks."""

    OPTIONS = OPTIONS

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        options = Options(settings, OPTIONS)
        self.name = settings.name
        self._client = client
        self._secret_id = options.string("secret_id")
        self._secret_key = options.string("secret")
        self._app_id = options.string("sdk_app_id")
        self._sign_name = options.string("sign_name")
        self._templates = read_templates(options)
        self._token = options.string("webhook_token")
        self._region = options.string("region")
        self._endpoint = httpx.URL(options.string("endpoint"))
        self._timeout = options.timeout()
        self._capabilities = options.capabilities(
            templates=frozenset(self._templates), signature=f"【{self._sign_name}】",
            template_params={key: template.params for key, template in self._templates.items()},
        )

    def capabilities(self) -> Capabilities:
        """Template-only; the billed signature is 【SignName】 (assumed 70/67 like Aliyun)."""
        return self._capabilities

    async def send(self, sms: OutboundSms) -> SendResult:
        """SendSms for one number; the result's id is Tencent's SerialNo."""
        template = self._templates.get(sms.template_key)
        if template is None:
            raise template_missing(sms.template_key)
        if error := missing_params(list(template.params), sms.params):
            raise error
        payload = {
            "PhoneNumberSet": [e164(sms.to)],
            "SmsSdkAppId": self._app_id,
            "SignName": self._sign_name,
            "TemplateId": template.id,
            "TemplateParamSet": [str(sms.params[name]) for name in template.params],
            "SessionContext": str(sms.outbox_id),
        }
        response = await call(self._client, self._signed_request("SendSms", payload), self._timeout)
        status = self._first_status(response)
        fee = status.get("Fee")
        segments = fee if isinstance(fee, int) and fee > 0 else None
        return SendResult(
            (str(status.get("SerialNo", "")),),
            segments or mainland_segments(self._capabilities.signature, sms.text),
        )

    def _signed_request(self, action: str, payload: Mapping[str, Any]) -> httpx.Request:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        host = self._endpoint.netloc.decode("ascii")
        timestamp = int(time.time())
        authorization = tc3_authorization(
            secret_id=self._secret_id,
            secret_key=self._secret_key,
            service=SERVICE,
            host=host,
            content_type=CONTENT_TYPE,
            timestamp=timestamp,
            body=body,
        )
        headers = {
            "Authorization": authorization,
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self._region,
        }
        return self._client.build_request("POST", self._endpoint, headers=headers, content=body)

    @staticmethod
    def _first_status(response: httpx.Response) -> Mapping[str, Any]:
        data = response_json(response)
        reply = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(reply, dict):
            raise send_error("", "answer has no Response object", response.status_code)
        if isinstance(error := reply.get("Error"), dict):
            raise send_error(str(error.get("Code", "")), str(error.get("Message", "")), response.status_code)
        statuses = reply.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            raise send_error("", "answer has no SendStatusSet", response.status_code)
        status: Mapping[str, Any] = statuses[0]
        if status.get("Code") != "Ok":  # per-number failure inside a 200 answer
            raise send_error(str(status.get("Code", "")), str(status.get("Message", "")))
        return status

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Status report batch: SUCCESS is delivered, FAIL is failed; `sid` is the SerialNo."""
        check_token(req, self._token)
        receipts = []
        for index, item in enumerate(json_objects(req)):
            where = f"item {index}"
            report = field(item, "report_status", where)
            if report not in REPORT_STATUS:
                raise WebhookError(400, f"{where}: unknown report_status {report!r}")
            detail = " ".join(str(item.get(key) or "") for key in ("errmsg", "description")).strip()
            receipts.append(DeliveryReceipt(field(item, "sid", where), REPORT_STATUS[report], detail))
        return receipts

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Reply callback: one object (or an array of them) with mobile, text and Unix time."""
        check_token(req, self._token)
        data = json_body(req)
        items = data if isinstance(data, list) else [data]
        return [self._reply(item, f"item {index}") for index, item in enumerate(items)]

    @staticmethod
    def _reply(item: Any, where: str) -> InboundSms:
        if not isinstance(item, dict):
            raise WebhookError(400, f"{where}: expected a JSON object")
        mobile, text = field(item, "mobile", where), field(item, "text", where)
        raw_time = field(item, "time", where)
        received = epoch_time(raw_time, where) if raw_time.isdigit() else china_time(raw_time, where)
        # Replies carry no id: derive a stable one so a retried callback deduplicates.
        digest = hashlib.sha256(f"{mobile}|{raw_time}|{text}".encode()).hexdigest()[:16]
        nationcode = str(item.get("nationcode") or "86")
        return InboundSms(
            sender=mobile if nationcode == "86" else f"+{nationcode}{mobile}",
            text=text,
            external_id=f"reply-{digest}",
            received_at=received,
            recipient=str(item.get("extend") or ""),
        )

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Tencent expects `{"result":0,"errmsg":"OK"}` for both callbacks."""
        return json_ack({"result": 0, "errmsg": "OK"})
