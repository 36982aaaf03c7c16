"""`memory`: the in-memory twin of a provider, behaviour-complete and scriptable, for tests.

It records every send, issues provider ids (``mem-1``, ``mem-2`` …), fails on demand (the next N
sends, or every send to one recipient, with the SendError you choose), can be slowed down, and
speaks the plain JSON webhook format of `gateways.jsonhooks`, so the web layer is exercised through
`parse_inbound`/`parse_receipt` exactly as with a real provider. `inbound_request()` and
`receipt_request()` build those webhook requests.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from urllib.parse import urlencode

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
    WebhookKind,
    WebhookRequest,
    jsonhooks,
)
from gateways.common import Options, billed_segments, check_token, json_ack, template_missing
from gateways.options import RATE, SIGNATURE, Option, declare

OPTIONS = declare(
    Option("templates", "list", None, "our template keys it has templates for (template-only mode); "
           "absent: free text"),
    SIGNATURE,
    Option("max_segments", "integer", 10, "longest message in segments; longer sends fail (too_long)"),
    Option("latency", "number", 0.0, "seconds each send takes"),
    RATE,
    Option("webhook_token", "secret", "", "when set, webhooks must carry it as ?token="),
)


class MemoryGateway:
    """A provider that lives in memory; inspect `sent`, `attempts` and `results` in tests."""

    OPTIONS = OPTIONS

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient | None = None) -> None:
        options = Options(settings, OPTIONS)
        self.name = settings.name
        self._templates = self._read_templates(options)
        self._token = options.optional_string("webhook_token")
        self._max_segments = options.integer("max_segments", minimum=1)
        self.latency = options.number("latency")
        self._capabilities = options.capabilities(templates=self._templates, max_segments=self._max_segments)
        self.sent: list[OutboundSms] = []
        self.attempts: list[OutboundSms] = []
        self.results: list[SendResult] = []
        self.by_id: dict[str, OutboundSms] = {}
        self._next_failures: deque[SendError] = deque()
        self._recipient_failures: dict[str, SendError] = {}
        self._ids = itertools.count(1)
        self._inbound_ids = itertools.count(1)

    @staticmethod
    def _read_templates(options: Options) -> frozenset[str] | None:
        raw = options.settings.options.get("templates")
        if raw is None:
            return None
        if isinstance(raw, str) or not all(isinstance(key, str) and key for key in raw):
            raise options.error("templates", "must be a list of template keys")
        return frozenset(raw)

    def capabilities(self) -> Capabilities:
        """Free text unless `templates` is configured; segment sizes follow the signature rule."""
        return self._capabilities

    # --- scripting ---

    def fail_next(self, count: int = 1, *, code: str = "scripted", retryable: bool = True) -> None:
        """Make the next `count` sends raise SendError(code, retryable=...)."""
        for _ in range(count):
            self._next_failures.append(SendError(code, "scripted failure", retryable=retryable))

    def fail_for(self, recipient: str, *, code: str = "scripted", retryable: bool = False) -> None:
        """Make every send to `recipient` raise SendError(code, retryable=...) until cleared."""
        self._recipient_failures[recipient] = SendError(code, "scripted failure", retryable=retryable)

    def clear_failures(self) -> None:
        """Forget all scripted failures."""
        self._next_failures.clear()
        self._recipient_failures.clear()

    # --- the contract ---

    async def send(self, sms: OutboundSms) -> SendResult:
        """Record the attempt, wait `latency`, apply scripted failures, then accept."""
        self.attempts.append(sms)
        if self.latency:
            await asyncio.sleep(self.latency)
        self._check(sms)
        external_id = f"mem-{next(self._ids)}"
        result = SendResult((external_id,), billed_segments(self._capabilities.signature, sms.text))
        self.sent.append(sms)
        self.results.append(result)
        self.by_id[external_id] = sms
        return result

    def _check(self, sms: OutboundSms) -> None:
        if self._next_failures:
            raise self._next_failures.popleft()
        if sms.to in self._recipient_failures:
            raise self._recipient_failures[sms.to]
        if self._templates is not None and sms.template_key not in self._templates:
            raise template_missing(sms.template_key)
        segments = billed_segments(self._capabilities.signature, sms.text)
        if segments > self._max_segments:
            raise SendError("too_long", f"{segments} segments > {self._max_segments}", retryable=False)

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Decode the JSON inbound format (after the token check when one is configured)."""
        self._verify(req)
        return jsonhooks.parse_inbound(req)

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Decode the JSON receipt format (after the token check when one is configured)."""
        self._verify(req)
        return jsonhooks.parse_receipts(req)

    def _verify(self, req: WebhookRequest) -> None:
        if self._token:
            check_token(req, self._token)

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Answer every accepted webhook with `{"ok": true}`."""
        return json_ack({"ok": True})

    # --- webhook requests, as the provider would send them ---

    def inbound_request(
        self, sender: str, text: str, *, external_id: str = "", recipient: str = "", path: str = "/memory/in"
    ) -> WebhookRequest:
        """Build the webhook request a phone's message would arrive as."""
        external_id = external_id or f"mo-{next(self._inbound_ids)}"
        extra = {"to": recipient} if recipient else {}
        body = jsonhooks.inbound_body(sender, text, external_id, **extra)
        return self._request(path, body)

    def receipt_request(
        self, external_id: str, status: ReceiptStatus, detail: str = "", *, path: str = "/memory/dlr"
    ) -> WebhookRequest:
        """Build the webhook request a delivery report would arrive as."""
        return self._request(path, jsonhooks.receipt_body(external_id, status, detail))

    def _request(self, path: str, body: bytes) -> WebhookRequest:
        query = {"token": self._token} if self._token else {}
        url = f"http://memory.invalid{path}" + (f"?{urlencode(query)}" if query else "")
        headers = {"Content-Type": "application/json"}
        return WebhookRequest("POST", path, query, headers, body, url=url)
