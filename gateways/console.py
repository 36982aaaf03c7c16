"""`console`: the development default. Each send prints one line and succeeds.

The line shows the recipient masked (139****5678), the segment count and the text (JSON-quoted,
so a newline in it cannot break the one-line rule). Output goes to stdout, or to the text stream
given as the `stream` constructor argument (or `options["stream"]`) in tests. Webhooks use the
plain JSON format of `gateways.jsonhooks`, so a developer can post a message with curl.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import itertools
import json
import sys
from typing import TextIO

import httpx

from gateways import (
    Capabilities,
    DeliveryReceipt,
    GatewaySettings,
    InboundSms,
    OutboundSms,
    SendResult,
    WebhookKind,
    WebhookRequest,
    jsonhooks,
)
from gateways.common import Options, billed_segments, check_token, json_ack, mask_phone
from gateways.options import RATE, SIGNATURE, Option, declare

OPTIONS = declare(
    SIGNATURE, RATE,
    Option("webhook_token", "secret", "", "when set, our webhook URLs must carry it as ?token="),
    Option("stream", "object", None, "tests only: the text stream to print to (default stdout)"),
)


class ConsoleGateway:
    """Print messages instead of sending them; never fails."""

    OPTIONS = OPTIONS

    def __init__(
        self,
        settings: GatewaySettings,
        client: httpx.AsyncClient | None = None,
        *,
        stream: TextIO | None = None,
    ) -> None:
        self.name = settings.name
        self._options = Options(settings, OPTIONS)
        self._token = self._options.optional_string("webhook_token")
        self._capabilities = self._options.capabilities()
        self._stream: TextIO = stream or settings.options.get("stream") or sys.stdout
        self._ids = itertools.count(1)

    def capabilities(self) -> Capabilities:
        """Free text, default segment sizes, signature and rate from options."""
        return self._capabilities

    async def send(self, sms: OutboundSms) -> SendResult:
        """Write one line: masked recipient, segment count, text."""
        segments = billed_segments(self._capabilities.signature, sms.text)
        text = json.dumps(self._capabilities.signature + sms.text, ensure_ascii=False)
        line = f"[{self.name}] to {mask_phone(sms.to)} ({segments} seg): {text}\n"
        try:
            self._stream.write(line)
            self._stream.flush()
        except (OSError, ValueError):  # a closed terminal must not fail a development send
            pass
        return SendResult((f"console-{next(self._ids)}",), segments)

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Decode the JSON inbound format."""
        self._verify(req)
        return jsonhooks.parse_inbound(req)

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Decode the JSON receipt format."""
        self._verify(req)
        return jsonhooks.parse_receipts(req)

    def _verify(self, req: WebhookRequest) -> None:
        if self._token:
            check_token(req, self._token)

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Answer every accepted webhook with `{"ok": true}`."""
        return json_ack({"ok": True})
