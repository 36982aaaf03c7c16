"""The gateway contract: wire types, the `Gateway` protocol, errors, and the registry.

A gateway turns one outbound message into a provider call, and a provider's webhook request
into inbound messages or delivery receipts. Gateways are framework-neutral (no aiohttp), never
import `farmer_mailbox`, and do I/O only in `send()` through the shared `httpx.AsyncClient`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, Literal, Protocol, runtime_checkable

import httpx

ReceiptStatus = Literal["sent", "delivered", "failed"]
WebhookKind = Literal["inbound", "receipt"]


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A provider's HTTP request to us, stripped of any web framework.

    `url` is the public URL the provider called (scheme, host, path, query), which some
    providers sign (Twilio); `path` and `query` are what our server saw.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    url: str = ""
    remote: str = ""

    def header(self, name: str) -> str:
        """Return a header value by case-insensitive name, or ''."""
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return ""


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One message to one recipient, as the outbox hands it to a gateway.

    `to` is the channel address (an 11-digit mainland mobile for SMS, an openid for WeChat).
    `text` is the local rendering of `template_key` with `params`; template-only providers
    send `template_key` + `params` instead and ignore `text`.
    """

    outbox_id: int
    to: str
    template_key: str
    params: Mapping[str, str]
    text: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class InboundSms:
    """One message from a user, as the provider reported it.

    `event` is empty for a text message; channels with events (WeChat) set it to
    'subscribe', 'unsubscribe' or another provider event name, with `text` empty.
    """

    sender: str
    text: str
    external_id: str
    received_at: datetime
    recipient: str = ""
    event: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """A status update for a message we sent, keyed by the provider's message id."""

    external_id: str
    status: ReceiptStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a provider accepted: its message id(s) and, when it says so, billed segments."""

    external_ids: tuple[str, ...]
    segments: int | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a gateway can carry and how fast.

    `templates` is None for free-text gateways; for template-only providers it is the set of
    our template keys that have a provider template id configured. `signature` is the text the
    provider prepends and bills (e.g. '【农民信箱】'). `rate_per_second` 0 means no limit.
    `template_params` names, per template key, the params of ours a configured provider template
    reads (Tencent's ordered list, WeChat template fields), so start-up can check them.
    """

    templates: frozenset[str] | None = None
    signature: str = ""
    single_segment_chars: int = 70
    multi_segment_chars: int = 67
    max_segments: int = 10
    rate_per_second: float = 0.0
    channel: str = "sms"
    template_params: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)

    @property
    def templates_only(self) -> bool:
        """True when the provider sends only approved templates."""
        return self.templates is not None


class SendError(Exception):
    """A send that failed; `retryable` says whether trying again (later, or elsewhere) can help."""

    def __init__(self, code: str, message: str = "", *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.retryable = retryable


class WebhookError(Exception):
    """A webhook request we refuse: 403 for a bad signature or token, 400 for a malformed body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """One configured gateway: its name, its type, and its options.

    Secrets are resolved before a gateway sees them: a config key `secret_env = "VAR"` arrives
    here as `options["secret"]` holding the variable's value.
    """

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def get_str(self, key: str, default: str | None = None) -> str:
        """Return a string option, or raise ValueError naming the missing key."""
        value = self.options.get(key, default)
        if value is None:
            raise ValueError(f"gateway {self.name!r} ({self.type}): option {key!r} is required")
        return str(value)


@runtime_checkable
class Gateway(Protocol):
    """What every provider implements; only `send` does I/O."""

    name: str

    def capabilities(self) -> Capabilities:
        """Say what the provider carries (free text or templates), segment sizes and rate."""
        ...

    async def send(self, sms: OutboundSms) -> SendResult:
        """Hand one message to the provider; raise SendError with the retry policy on failure."""
        ...

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Verify and decode an inbound-message webhook; raise WebhookError when refused."""
        ...

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Verify and decode a delivery-report webhook; raise WebhookError when refused."""
        ...

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """Return (status, content type, body) the provider expects after a webhook we accepted."""
        ...


GatewayFactory = Callable[[GatewaySettings, httpx.AsyncClient], Gateway]

BUILTIN_GATEWAYS: dict[str, str] = {
    "console": "gateways.console:ConsoleGateway",
    "memory": "gateways.memory:MemoryGateway",
    "kannel": "gateways.kannel:KannelGateway",
    "aliyun": "gateways.aliyun:AliyunGateway",
    "tencent": "gateways.tencent:TencentGateway",
    "twilio": "gateways.twilio:TwilioGateway",
    "http": "gateways.http:HttpGateway",
    "wechat": "gateways.wechat:WechatGateway",
}
ENTRY_POINT_GROUP = "farmer_mailbox.gateways"


def _import_target(target: str) -> GatewayFactory:
    module_name, _, attr = target.partition(":")
    factory: GatewayFactory = getattr(importlib.import_module(module_name), attr)
    return factory


def find_factory(gateway_type: str) -> GatewayFactory:
    """Find a gateway class by type name: built-ins first, then installed entry points."""
    if gateway_type in BUILTIN_GATEWAYS:
        return _import_target(BUILTIN_GATEWAYS[gateway_type])
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == gateway_type:
            factory: GatewayFactory = ep.load()
            return factory
    known = ", ".join(sorted(BUILTIN_GATEWAYS))
    raise ValueError(f"unknown gateway type {gateway_type!r} (known: {known})")


def load_gateway(settings: GatewaySettings, client: httpx.AsyncClient) -> Gateway:
    """Build the configured gateway; raise ValueError naming the bad option."""
    return find_factory(settings.type)(settings, client)
