"""`http`: a generic JSON or form gateway for local SMS aggregators, driven entirely by options.

Sending (`send_url`, `method` POST|GET, `format` json|form; GET always uses the query string):

- `fields`: our names -> the aggregator's field names. Ours: `to`, `text`, `outbox_id`,
  `template_key`, `params` (a JSON object in json format). Default ``{to = "to", text = "text"}``.
- `extra`: static fields added to every request (account, sign, …).
- `auth_header` + `secret` (+ `auth_prefix`, e.g. "Bearer "): the credential header.
- success is a 2xx answer and, when `success_field` is set, that dotted JSON path equal to
  `success_value`; `id_path` is the dotted path of the provider's message id (our outbox id when
  unset); `error_path` names the error code. `retry_codes` (error codes) and 429/5xx answers retry.

Webhooks (JSON object or array of objects, or a form post; `webhook_token` required, as
?token=): `inbound_fields` maps ``sender, text, id`` (and optional ``to, time``) to
their keys; `receipt_fields` maps ``id, status`` (and optional ``detail``); `status_map` maps their
status values to sent|delivered|failed. `ack_body` (default "ok") is the answer body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

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
    billed_segments,
    call,
    check_token,
    china_time,
    epoch_time,
    field,
    form_body,
    json_body,
)
from gateways.options import RATE, SIGNATURE, TIMEOUT, WEBHOOK_TOKEN, Option, declare

OUR_SEND_FIELDS = ("to", "text", "outbox_id", "template_key", "params")
STATUSES = ("sent", "delivered", "failed")
DEFAULT_INBOUND_FIELDS = {"sender": "from", "text": "text", "id": "id"}
DEFAULT_RECEIPT_FIELDS = {"id": "id", "status": "status"}

OPTIONS = declare(
    Option("send_url", "string", None, "the aggregator's send URL", required=True),
    Option("method", "string", "POST", "POST or GET (GET puts every field in the query string)"),
    Option("format", "string", "json", "json or form: how a POST carries the fields"),
    Option("fields", "table", {"to": "to", "text": "text"}, "our field -> theirs; ours: to, text, outbox_id, "
           "template_key, params"),
    Option("extra", "table", {}, "fixed fields added to every send (account, sign, ...)"),
    Option("auth_header", "string", "", "header carrying the credential (e.g. X-Api-Key); empty: none"),
    Option("auth_prefix", "string", "", "text before the secret in that header (e.g. 'Bearer ')"),
    Option("secret", "secret", None, "the credential sent in auth_header (required when auth_header is set)"),
    Option("success_field", "string", "", "dotted path in the JSON answer that says success; empty: any 2xx"),
    Option("success_value", "string", "", "the value of success_field that means success"),
    Option("id_path", "string", "", "dotted path of the provider's message id; empty: our outbox id"),
    Option("error_path", "string", "", "dotted path of the provider's error code"),
    Option("retry_codes", "list", [], "error codes worth retrying (429 and 5xx always are)"),
    WEBHOOK_TOKEN,
    Option("inbound_fields", "table", dict(DEFAULT_INBOUND_FIELDS), "inbound webhook: ours (sender, text, id; "
           "optional to, time) -> their keys"),
    Option("receipt_fields", "table", dict(DEFAULT_RECEIPT_FIELDS), "receipt webhook: ours (id, status; "
           "optional detail) -> their keys"),
    Option("status_map", "table", {s: s for s in STATUSES}, "their receipt status -> sent, delivered or failed"),
    Option("ack_body", "string", "ok", "the body we answer their webhooks with"),
    Option("max_segments", "integer", 10, "longest message in segments the aggregator takes"),
    TIMEOUT, RATE, SIGNATURE,
)


def dig(data: Any, path: str) -> Any:
    """Follow a dotted path (`data.list.0.id`) into decoded JSON; None when it leads nowhere."""
    for step in path.split("."):
        if isinstance(data, Mapping):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def parse_time(value: str, where: str) -> datetime:
    """Unix seconds, ISO 8601 with a zone, or 'YYYY-MM-DD HH:MM:SS' in Beijing time."""
    if value.isdigit():
        return epoch_time(value, where)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return china_time(value, where)
    return parsed.astimezone(UTC) if parsed.tzinfo else china_time(value, where)


class HttpGateway:
    """A configurable HTTP gateway for aggregators that speak plain JSON or forms."""

    OPTIONS = OPTIONS

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        options = Options(settings, OPTIONS)
        self.name = settings.name
        self._client = client
        self._url = options.string("send_url")
        self._method = options.choice("method", None, ("POST", "GET"))
        self._format = options.choice("format", None, ("json", "form"))
        self._fields = options.str_map("fields") or dict(OPTIONS["fields"].default)
        if unknown := set(self._fields) - set(OUR_SEND_FIELDS):
            raise options.error(f"fields.{sorted(unknown)[0]}", f"is not one of {', '.join(OUR_SEND_FIELDS)}")
        self._extra = options.str_map("extra")
        self._headers = self._auth_headers(options)
        self._success_field = options.optional_string("success_field")
        self._success_value = str(options.settings.options.get("success_value", ""))
        self._id_path = options.optional_string("id_path")
        self._error_path = options.optional_string("error_path")
        self._retry_codes = frozenset(str(code) for code in options.settings.options.get("retry_codes", []))
        self._token = options.string("webhook_token")
        self._inbound = self._field_map(options, "inbound_fields", DEFAULT_INBOUND_FIELDS)
        self._receipt = self._field_map(options, "receipt_fields", DEFAULT_RECEIPT_FIELDS)
        self._status_map = self._read_status_map(options)
        self._ack_body = options.string("ack_body").encode("utf-8")
        self._timeout = options.timeout()
        self._capabilities = options.capabilities(max_segments=options.integer("max_segments", minimum=1))

    @staticmethod
    def _auth_headers(options: Options) -> dict[str, str]:
        header = options.optional_string("auth_header")
        if not header:
            return {}
        return {header: options.optional_string("auth_prefix") + options.string("secret")}

    @staticmethod
    def _field_map(options: Options, key: str, default: dict[str, str]) -> dict[str, str]:
        table = options.str_map(key) or dict(default)
        for name in default:
            if name not in table:
                raise options.error(f"{key}.{name}", "is required")
        return table

    @staticmethod
    def _read_status_map(options: Options) -> dict[str, ReceiptStatus]:
        table = options.str_map("status_map") or dict(OPTIONS["status_map"].default)
        for theirs, ours in table.items():
            if ours not in STATUSES:
                raise options.error(f"status_map.{theirs}", f"must be one of {', '.join(STATUSES)}")
        return cast(dict[str, ReceiptStatus], table)

    def capabilities(self) -> Capabilities:
        """Free text; signature, rate and max_segments from options."""
        return self._capabilities

    async def send(self, sms: OutboundSms) -> SendResult:
        """Send one message as configured and read the id and verdict from the answer."""
        response = await call(self._client, self._request(sms), self._timeout)
        data = self._answer(response)
        external_id = dig(data, self._id_path) if self._id_path else sms.outbox_id
        if external_id is None or external_id == "":
            raise SendError("no_id", f"no message id at {self._id_path!r}", retryable=False)
        return SendResult((str(external_id),), billed_segments(self._capabilities.signature, sms.text))

    def _request(self, sms: OutboundSms) -> httpx.Request:
        ours: dict[str, Any] = {
            "to": sms.to,
            "text": sms.text,
            "outbox_id": str(sms.outbox_id),
            "template_key": sms.template_key,
            "params": dict(sms.params),
        }
        payload: dict[str, Any] = dict(self._extra)
        payload |= {theirs: ours[name] for name, theirs in self._fields.items()}
        if self._method == "GET" or self._format == "form":
            flat = {key: value if isinstance(value, str) else str(value) for key, value in payload.items()}
            if self._method == "GET":
                return self._client.build_request("GET", self._url, params=flat, headers=self._headers)
            return self._client.build_request("POST", self._url, data=flat, headers=self._headers)
        return self._client.build_request("POST", self._url, json=payload, headers=self._headers)

    def _answer(self, response: httpx.Response) -> Any:
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        code = str(dig(data, self._error_path) or "") if self._error_path else ""
        if not response.is_success:
            retry = response.status_code == 429 or response.status_code >= 500 or code in self._retry_codes
            raise SendError(code or f"http_{response.status_code}", response.text[:200], retryable=retry)
        if self._success_field and str(dig(data, self._success_field)) != self._success_value:
            code = code or str(dig(data, self._success_field))
            raise SendError(code, response.text[:200], retryable=code in self._retry_codes)
        return data

    def _items(self, req: WebhookRequest) -> list[Mapping[str, Any]]:
        check_token(req, self._token)
        if "json" in req.header("Content-Type") or req.body.lstrip()[:1] in (b"{", b"["):
            data = json_body(req)
            items = data if isinstance(data, list) else [data]
        else:
            items = [{key: values[0] for key, values in form_body(req).items()}]
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise WebhookError(400, f"item {index}: expected a JSON object")
        return items

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Inbound messages through the `inbound_fields` mapping."""
        names = self._inbound
        messages = []
        for index, item in enumerate(self._items(req)):
            where = f"item {index}"
            raw_time = str(item.get(names.get("time", ""), "") or "")
            messages.append(
                InboundSms(
                    sender=field(item, names["sender"], where),
                    text=field(item, names["text"], where),
                    external_id=field(item, names["id"], where),
                    received_at=parse_time(raw_time, where) if raw_time else datetime.now(UTC),
                    recipient=str(item.get(names.get("to", ""), "") or ""),
                )
            )
        return messages

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Receipts through `receipt_fields`, their status values through `status_map`."""
        names = self._receipt
        receipts = []
        for index, item in enumerate(self._items(req)):
            where = f"item {index}"
            theirs = field(item, names["status"], where)
            if theirs not in self._status_map:
                raise WebhookError(400, f"{where}: unknown status {theirs!r}")
            detail = str(item.get(names.get("detail", ""), "") or theirs)
            external_id = field(item, names["id"], where)
            receipts.append(DeliveryReceipt(external_id, self._status_map[theirs], detail))
        return receipts

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """The configured `ack_body` as text/plain."""
        return 200, "text/plain; charset=utf-8", self._ack_body
