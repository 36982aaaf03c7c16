"""`twilio`: Twilio Programmable Messaging — Messages API, StatusCallback, signed webhooks.

Send: form POST to ``/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic
`AccountSid:AuthToken` (twilio.com/docs/messaging/api/message-resource). Errors come back as
JSON `{code, message, status}`; 429 (code 20429) and 5xx are worth retrying.

Webhooks (inbound messages and status callbacks) are form posts signed with X-Twilio-Signature:
base64 HMAC-SHA1(AuthToken, URL + sorted name/value pairs), checked against the URL Twilio
called (`WebhookRequest.url`, which the web layer must rebuild as public when behind a proxy),
with and without the default port (twilio.com/docs/usage/security; `gateways.signing`). Their
parameter sets grow without notice, so only the fields we read are required. Status values
other than the final ones map to "sent", which never moves a message backwards.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

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
from gateways.common import Options, call, e164, form_body, response_json
from gateways.options import RATE, TIMEOUT, Option, declare
from gateways.signing import twilio_signature_valid

DEFAULT_ENDPOINT = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
FINAL_STATUS: dict[str, ReceiptStatus] = {
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

OPTIONS = declare(
    Option("account_sid", "string", None, "the Account SID (AC...)", required=True),
    Option("secret", "secret", None, "the Auth Token: authenticates our calls and signs Twilio's webhooks",
           required=True),
    Option("from_number", "string", "", "the sender number in E.164 (this or messaging_service_sid)"),
    Option("messaging_service_sid", "string", "", "a Messaging Service SID (MG...) instead of from_number"),
    Option("status_callback", "string", "", "our receipt webhook URL, <public_url>/hooks/<name>/receipt; "
           "empty: no delivery reports"),
    Option("country_code", "string", "86", "country code given to bare national numbers (11-digit mainland)"),
    Option("endpoint", "string", DEFAULT_ENDPOINT, "the Twilio API base URL"),
    TIMEOUT, RATE,
)


def send_error(http_status: int, data: object) -> SendError:
    """Map a Twilio error answer onto a SendError: 429 and 5xx retry, the rest does not."""
    code = data.get("code") if isinstance(data, dict) else None
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    retryable = http_status == 429 or http_status >= 500 or code == 20429
    return SendError(f"twilio_{code}" if code else f"http_{http_status}", message, retryable=retryable)


class TwilioGateway:
    """Send through Twilio's Messages API and read its signed webhooks."""

    OPTIONS = OPTIONS

    def __init__(
        self,
        settings: GatewaySettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        options = Options(settings, OPTIONS)
        self.name = settings.name
        self._client = client
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sid = options.string("account_sid")
        self._token = options.string("secret")
        self._sender = self._read_sender(options)
        self._status_callback = options.optional_string("status_callback")
        self._country = options.string("country_code")
        endpoint = options.string("endpoint").rstrip("/")
        self._messages_url = f"{endpoint}/2010-04-01/Accounts/{self._sid}/Messages.json"
        self._timeout = options.timeout()
        self._capabilities = options.capabilities()
        credentials = base64.b64encode(f"{self._sid}:{self._token}".encode()).decode("ascii")
        self._basic_auth = f"Basic {credentials}"

    @staticmethod
    def _read_sender(options: Options) -> tuple[str, str]:
        if number := options.optional_string("from_number"):
            return "From", number
        if service := options.optional_string("messaging_service_sid"):
            return "MessagingServiceSid", service
        raise options.error("from_number", "or 'messaging_service_sid' is required")

    def capabilities(self) -> Capabilities:
        """Free text; segment sizes as UCS-2 (Chinese text), rate from options."""
        return self._capabilities

    async def send(self, sms: OutboundSms) -> SendResult:
        """Create one Message; its `sid` is the external id, `num_segments` the billed parts."""
        form = {"To": e164(sms.to, self._country), self._sender[0]: self._sender[1], "Body": sms.text}
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        headers = {"Authorization": self._basic_auth}
        request = self._client.build_request("POST", self._messages_url, data=form, headers=headers)
        response = await call(self._client, request, self._timeout)
        data = response_json(response)
        if response.status_code >= 300 or not isinstance(data, dict) or not data.get("sid"):
            raise send_error(response.status_code, data)
        segments = str(data.get("num_segments") or "")
        return SendResult((str(data["sid"]),), int(segments) if segments.isdigit() else None)

    def _verified_form(self, req: WebhookRequest) -> dict[str, list[str]]:
        signature = req.header(SIGNATURE_HEADER)
        if not signature:
            raise WebhookError(403, f"missing {SIGNATURE_HEADER}")
        if not req.url:
            raise WebhookError(403, "no request URL to check the signature against")
        form = form_body(req)
        if not twilio_signature_valid(self._token, req.url, form, signature):
            raise WebhookError(403, "bad signature")
        return form

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """An incoming message: MessageSid, From, To, Body (Twilio sends no timestamp)."""
        form = self._verified_form(req)
        return [
            InboundSms(
                sender=_one(form, "From"),
                text=form.get("Body", [""])[0],
                external_id=_one(form, "MessageSid"),
                received_at=self._clock(),
                recipient=form.get("To", [""])[0],
            )
        ]

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """A status callback: MessageSid, MessageStatus, ErrorCode when it failed."""
        form = self._verified_form(req)
        status = _one(form, "MessageStatus")
        error = form.get("ErrorCode", [""])[0]
        detail = status + (f" {error}" if error else "")
        return [DeliveryReceipt(_one(form, "MessageSid"), FINAL_STATUS.get(status, "sent"), detail)]

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Empty TwiML for an inbound message (no auto-reply); an empty 200 for a status callback."""
        if kind == "inbound":
            return 200, "text/xml; charset=utf-8", EMPTY_TWIML
        return 200, "text/plain; charset=utf-8", b""


def _one(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key)
    if not values or not values[0]:
        raise WebhookError(400, f"missing {key}")
    return values[0]
