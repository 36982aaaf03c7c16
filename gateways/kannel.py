"""`kannel`: Kannel 1.4.5 smsbox — sendsms over GET, MO through get-url, DLRs through dlr-url.

Facts used here were observed with Debian kannel 1.4.5-12 (see protocols.md §1, user guide [S1]):

- MT: ``GET /cgi-bin/sendsms`` (a form POST gets 400 "Invalid content-type"). We always send
  ``coding=2&charset=UTF-8``: without charset Kannel takes the UTF-8 bytes for UTF-16BE, and with
  coding 0 every CJK character becomes '?'. Replies: 202 ``0: Accepted for delivery``, 202 ``3:
  Queued for later delivery`` (no SMSC connected yet), 403 auth failed / not routable, 400 bad
  request, 500/503 temporary failure.
- Kannel silently truncates a text longer than the sendsms-user's `max-messages` parts, so we
  count the UCS-2 parts ourselves and refuse such a text (non-retryable).
- Kannel gives no message id; our outbox id is the external id, carried in the dlr-url.
- DLR types (dlr-mask bits): 1 delivered, 2 failed, 4 buffered, 8 SMSC ack, 16 SMSC reject
  (32 expired and 64 unknown come OR'd with 2). They arrive in any order (8 after 1 is common),
  so we map them onto sent < delivered | failed and let the outbox keep states monotonic.
- MO: get-url ``%b`` is the exact message (``%a`` squeezes whitespace); with `mo-recode` a UCS-2
  MO arrives as coding 0 / charset UTF-8. Kannel signs nothing, so both URLs carry our token.
- Mainland SMS must carry a 【签名】 and on an operator link nobody adds it: a configured
  `signature` is prepended to the text sent, and the parts are counted on that text.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import unquote_to_bytes, urlsplit

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
from gateways.common import Options, call, check_token, epoch_time, mend_text
from gateways.options import RATE, SIGNATURE, TIMEOUT, WEBHOOK_TOKEN, Option, declare
from gateways.segments import UCS2_MULTI, UCS2_SINGLE, ucs2_segments

DEFAULT_SENDSMS_URL = "http://127.0.0.1:13013/cgi-bin/sendsms"
MO_PARAMS = "from=%p&to=%P&bin=%b&coding=%c&charset=%C&smsc=%i&ts=%T&id=%I"
_URL_SAFE = re.compile(r"^[A-Za-z0-9_.~-]+$")

OPTIONS = declare(
    Option("sendsms_url", "string", DEFAULT_SENDSMS_URL, "smsbox's sendsms URL"),
    Option("username", "string", None, "the sendsms-user's username", required=True),
    Option("password", "secret", None, "the sendsms-user's password", required=True),
    Option("dlr_url", "string", None, "public URL of our receipt webhook: <public_url>/hooks/<name>/receipt",
           required=True),
    Option(WEBHOOK_TOKEN.name, "secret", None, "secret Kannel's get-url and dlr-url carry as ?token= (Kannel "
           "signs nothing); only A-Z a-z 0-9 _ . ~ -", required=True),
    Option("sender", "string", "", "from= of every message (the sender number); empty: smsbox's default"),
    Option("smsc", "string", "", "smsc= to route through one SMSC id; empty: bearerbox chooses"),
    Option("dlr_mask", "integer", 31, "dlr-mask: which reports to ask for (1 delivered, 2 failed, 4 buffered, "
           "8 SMSC ack, 16 SMSC reject)"),
    Option("max_messages", "integer", 10, "parts per message, as the sendsms-user's max-messages (longer texts "
           "are refused, not truncated)"),
    TIMEOUT, RATE,
    Option(SIGNATURE.name, "string", "", "【签名】 prepended to every text (an operator link adds none itself)"),
)


def get_url_template(mo_url: str, token: str) -> str:
    """The `get-url` for kannel.conf's sms-service that `parse_inbound` understands."""
    separator = "&" if "?" in mo_url else "?"
    return f"{mo_url}{separator}token={token}&{MO_PARAMS}"


def dlr_status(dlr_type: int) -> ReceiptStatus:
    """Map a Kannel DLR type onto our states; 'delivered' wins over any other bit set with it."""
    if dlr_type & 1:
        return "delivered"
    if dlr_type & (2 | 16):
        return "failed"
    if dlr_type & (4 | 8):
        return "sent"
    raise WebhookError(400, f"unknown DLR type {dlr_type}")


def raw_params(req: WebhookRequest) -> dict[str, bytes]:
    """Query parameters as bytes, from the raw query in `req.url` when there is one.

    `bin` of a UCS-2 or 8-bit MO is not UTF-8, so a web layer's decoded `query` could corrupt
    it; Kannel's own url-encoding writes a space as '+'.
    """
    raw = urlsplit(req.url).query if req.url else ""
    if not raw:
        return {key: value.encode("utf-8") for key, value in req.query.items()}
    params: dict[str, bytes] = {}
    for pair in raw.split("&"):
        key, _, value = pair.partition("=")
        params.setdefault(_unquote(key).decode("utf-8", "replace"), _unquote(value))
    return params


def _unquote(value: str) -> bytes:
    return unquote_to_bytes(value.replace("+", "%20"))


def decode_mo(data: bytes, coding: str, charset: str) -> str:
    """Decode an MO's `bin` per Kannel's %c (coding) and %C (charset)."""
    if coding == "2":
        encoding = "utf-16-be"
    elif coding in ("0", ""):
        encoding = charset or "utf-8"
    else:
        raise WebhookError(400, f"unsupported coding {coding} (8-bit data)")
    try:
        name = codecs.lookup(encoding).name
        if name.startswith("utf-16"):   # half an emoji (a lone surrogate) is mended, not the message lost
            return mend_text(data.decode(name, "surrogatepass"))
        return data.decode(name)
    except LookupError:
        raise WebhookError(400, f"unsupported charset {charset!r}") from None
    except UnicodeDecodeError:
        raise WebhookError(400, f"bin is not valid {encoding}") from None


class KannelGateway:
    """Send through a Kannel smsbox and read its get-url and dlr-url callbacks."""

    OPTIONS = OPTIONS

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        options = Options(settings, OPTIONS)
        self.name = settings.name
        self._client = client
        self._sendsms_url = options.string("sendsms_url")
        self._username = options.string("username")
        self._password = options.string("password")
        self._dlr_url = options.string("dlr_url")
        self._token = options.string("webhook_token")
        if not _URL_SAFE.match(self._token):  # it goes into Kannel URLs, where '%' is an escape
            raise options.error("webhook_token", "must use only A-Z a-z 0-9 _ . ~ -")
        self._sender = options.optional_string("sender")
        self._smsc = options.optional_string("smsc")
        self._dlr_mask = options.integer("dlr_mask", minimum=0)
        self._max_messages = options.integer("max_messages", minimum=1)
        self._timeout = options.timeout()
        self._capabilities = options.capabilities(
            single_segment_chars=UCS2_SINGLE, multi_segment_chars=UCS2_MULTI, max_segments=self._max_messages
        )

    def capabilities(self) -> Capabilities:
        """Free text as UCS-2 (70/67), at most `max_messages` parts."""
        return self._capabilities

    def wire_text(self, text: str) -> str:
        """The text as sent: the configured 【signature】 first (an operator link adds none itself)."""
        signature = self._capabilities.signature
        return text if not signature or text.startswith(signature) else signature + text

    async def send(self, sms: OutboundSms) -> SendResult:
        """GET sendsms with UCS-2 coding and a dlr-url naming our outbox id."""
        text = self.wire_text(sms.text)
        parts = ucs2_segments(text)
        if parts > self._max_messages:
            raise SendError("too_long", f"{parts} parts > max-messages {self._max_messages}", retryable=False)
        request = self._client.build_request("GET", self._sendsms_url, params=self._params(sms, text))
        response = await call(self._client, request, self._timeout)
        check_reply(response.status_code, response.text.strip())
        return SendResult((str(sms.outbox_id),), parts)

    def _params(self, sms: OutboundSms, text: str) -> dict[str, str]:
        separator = "&" if "?" in self._dlr_url else "?"
        dlr_url = f"{self._dlr_url}{separator}token={self._token}&outbox={sms.outbox_id}&type=%d&reply=%A"
        params = {
            "username": self._username,
            "password": self._password,
            "to": sms.to,
            "text": text,
            "coding": "2",
            "charset": "UTF-8",
            "dlr-mask": str(self._dlr_mask),
            "dlr-url": dlr_url,
        }
        optional = {"from": self._sender, "smsc": self._smsc}
        params.update({key: value for key, value in optional.items() if value})
        return params

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Read one MO from the get-url call (token checked, text from `bin`)."""
        check_token(req, self._token)
        params = raw_params(req)
        text = self._mo_text(params)
        received = params.get("ts", b"").decode("utf-8", "replace")
        return [
            InboundSms(
                sender=_required(params, "from"),
                text=text,
                external_id=_required(params, "id"),
                received_at=epoch_time(received, "ts") if received else datetime.now(UTC),
                recipient=params.get("to", b"").decode("utf-8", "replace"),
            )
        ]

    @staticmethod
    def _mo_text(params: Mapping[str, bytes]) -> str:
        data = params.get("bin")
        if data is None:
            data = params.get("text")  # a get-url written with %a: whitespace squeezed, still readable
        if data is None:
            raise WebhookError(400, "missing bin")
        coding = params.get("coding", b"0").decode("ascii", "replace")
        charset = params.get("charset", b"").decode("ascii", "replace")
        return decode_mo(data, coding, charset)

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Read one DLR from the dlr-url call we built in `send` (token checked)."""
        check_token(req, self._token)
        params = raw_params(req)
        outbox = _required(params, "outbox")
        dlr_type = _required(params, "type")
        if not dlr_type.isdigit():
            raise WebhookError(400, f"bad DLR type {dlr_type!r}")
        reply = params.get("reply", b"").decode("utf-8", "replace")
        detail = f"dlr {dlr_type}" + (f": {reply}" if reply else "")
        return [DeliveryReceipt(outbox, dlr_status(int(dlr_type)), detail)]

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Kannel counts only 200/202 as delivered; with max-messages 0 the body is ignored."""
        return 200, "text/plain; charset=utf-8", b""


def check_reply(status: int, body: str) -> None:
    """Map a sendsms answer onto success or a SendError with its retry policy."""
    if status in (200, 202) and body.startswith(("0:", "3:", "Sent")):
        return  # 3: means queued in bearerbox until an SMSC connects: accepted all the same
    if status == 403:
        raise SendError("forbidden", body, retryable=False)  # bad credentials, or "Not routable"
    if status == 400:
        raise SendError("rejected", body, retryable=False)
    if status >= 500:
        raise SendError(f"http_{status}", body, retryable=True)  # 503 "Temporal failure"
    raise SendError("unexpected_reply", f"HTTP {status}: {body}", retryable=False)


def _required(params: Mapping[str, bytes], key: str) -> str:
    value = params.get(key, b"").decode("utf-8", "replace")
    if not value:
        raise WebhookError(400, f"missing {key}")
    return value
