"""WeChat Official Account (微信公众号) as a gateway: same contract and outbox as the SMS gateways.

Inbound: WeChat POSTs XML to our `/wechat` URL (plain or safe mode); `parse_push()` verifies and
decodes it into user messages (InboundSms, openid as sender) and template delivery reports.
The GET URL verification is `verify_url()`. When the service's answer is ready within ~4 s the
handler returns `passive_reply()`; otherwise `ack("inbound")` ("success") and the answer goes
through the outbox to `send()`.

Outbound (`send`): the customer-service API (客服消息, free text, only within 48 h of the user's
last interaction and a few messages per interaction), or a configured template message
(模板消息) for our template key, either preferred outright or as the fallback when the
customer-service API answers 45015/45047. Without a template that error is final
(SendError "wechat.45015", retryable=False), so the service can fall back to SMS.

Options: `OPTIONS` below (name, kind, default, doc), each shown in config.example.toml."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from gateways import (
    Capabilities,
    DeliveryReceipt,
    GatewaySettings,
    InboundSms,
    OutboundSms,
    SendError,
    SendResult,
    WebhookError,
    WebhookKind,
    WebhookRequest,
)
from gateways.options import Option, declare, unknown_options
from gateways.wechat_api import DEFAULT_API_BASE, WINDOW_ERRCODES, AccessTokenCache, Clock, WechatApi
from gateways.wechat_crypto import aes_key
from gateways.wechat_push import (
    PushKeys,
    WechatPush,
    build_text_reply,
    decode_push,
    encrypt_reply,
    verify_url,
)

__all__ = ["TemplateSpec", "WechatGateway", "WechatPush", "build_text_reply", "encrypt_reply", "verify_url"]

# WeChat documents no exact limit for a customer-service text; we report one "segment" this
# large so segment counting yields 1 for any reply the service writes. send() never splits.
MESSAGE_CHARS = 2048
TEXT_PARAM = "_text"  # in a template's field mapping: the locally rendered text
_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WINDOW_CODES = frozenset(f"wechat.{code}" for code in WINDOW_ERRCODES)

OPTIONS = declare(
    Option("token", "secret", None, "the Token of 服务器配置 (signs WeChat's pushes)", required=True),
    Option("appid", "string", None, "the Official Account's AppID (wx...)", required=True),
    Option("secret", "secret", None, "the AppSecret (for access tokens)", required=True),
    Option("encoding_aes_key", "secret", "", "the EncodingAESKey (43 characters): safe mode when set"),
    Option("account_id", "string", "", "the gh_ id, FromUserName of passive replies; empty: the push's "
           "ToUserName"),
    Option("api_base", "string", DEFAULT_API_BASE, "the WeChat API base URL"),
    Option("timeout_seconds", "number", 5.0, "seconds to wait for a WeChat API answer"),
    Option("token_endpoint", "string", "stable", "stable (/cgi-bin/stable_token, shared safely between "
           "processes) or token (/cgi-bin/token)"),
    Option("token_refresh_margin_seconds", "number", 300.0, "refresh the access token this long before it "
           "expires"),
    Option("allow_plain", "boolean", False, "in safe mode, also accept plain (unencrypted) pushes"),
    Option("max_body_bytes", "number", 65536, "largest push body accepted"),
    Option("rate_per_second", "number", 0.0, "most messages per second through this gateway; 0 = no limit"),
    Option("prefer", "string", "custom", "custom (客服消息 inside the 48-hour window, template outside) or "
           "template (template messages whenever a kind has one)"),
    Option("templates", "table", None, "our kind -> {template_id, fields = {wechat_key = our_param or _text}, "
           "url, prefer}: template messages (模板消息), usable outside the 48-hour window"),
)


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """A WeChat template for one of our template keys: id, field mapping, link, preference."""

    template_id: str
    fields: Mapping[str, str]
    url: str = ""
    prefer: str = "custom"


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    text = str(value)
    if text not in allowed:
        raise ValueError(f"wechat option {name!r} must be one of {', '.join(allowed)}, not {text!r}")
    return text


def _number(opts: Mapping[str, Any], key: str) -> float:
    value = opts.get(key, OPTIONS[key].default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"wechat option {key!r} must be a non-negative number, not {value!r}")
    return float(value)


def _flag(opts: Mapping[str, Any], key: str) -> bool:
    value = opts.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"wechat option {key!r} must be true or false, not {value!r}")
    return value


def _aes_key_option(value: object) -> bytes | None:
    if not value:
        return None
    try:
        return aes_key(str(value))
    except ValueError as exc:
        raise ValueError(f"wechat option 'encoding_aes_key': {exc}") from exc


def _template(key: str, raw: object, prefer: str) -> TemplateSpec:
    where = f"templates.{key}"
    if not isinstance(raw, Mapping) or not raw.get("template_id"):
        raise ValueError(f"wechat option {where!r} needs a template_id")
    fields = raw.get("fields", {})
    if not isinstance(fields, Mapping) or not fields:
        raise ValueError(f"wechat option {where + '.fields'!r} must map WeChat keys to param names")
    return TemplateSpec(
        template_id=str(raw["template_id"]),
        fields={str(k): str(v) for k, v in fields.items()},
        url=str(raw.get("url", "")),
        prefer=_choice(where + ".prefer", raw.get("prefer", prefer), ("custom", "template")),
    )


def parse_templates(raw: object, prefer: str) -> dict[str, TemplateSpec]:
    """Validate the `templates` option into TemplateSpecs; ValueError naming the bad key."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("wechat option 'templates' must be a table of template keys")
    return {str(key): _template(str(key), value, prefer) for key, value in raw.items()}


def template_data(spec: TemplateSpec, sms: OutboundSms) -> dict[str, str]:
    """Fill a template's fields from the message's params (or its rendered text)."""
    data: dict[str, str] = {}
    for wechat_key, source in spec.fields.items():
        if source == TEXT_PARAM:
            data[wechat_key] = sms.text
        elif source in sms.params:
            data[wechat_key] = sms.params[source]
        else:
            detail = f"template {sms.template_key!r} maps {wechat_key!r} to missing param {source!r}"
            raise SendError("wechat.template_param", detail, retryable=False)
    return data


class WechatGateway:
    """The WeChat Official Account channel; only `send()` does I/O."""

    OPTIONS = OPTIONS

    def __init__(
        self, settings: GatewaySettings, client: httpx.AsyncClient, *, clock: Clock = time.monotonic
    ) -> None:
        opts = settings.options
        for key in unknown_options(opts, OPTIONS):
            raise ValueError(f"wechat option {key!r} is not an option of type wechat "
                             f"(known: {', '.join(sorted(OPTIONS))})")
        self.name = settings.name
        self.keys = PushKeys(
            token=settings.get_str("token"),
            appid=settings.get_str("appid"),
            aes_key=_aes_key_option(opts.get("encoding_aes_key")),
            allow_plain=_flag(opts, "allow_plain"),
            max_body_bytes=int(_number(opts, "max_body_bytes")),
        )
        self.account_id = str(opts.get("account_id", OPTIONS["account_id"].default))
        self._rate = _number(opts, "rate_per_second")
        prefer = _choice("prefer", opts.get("prefer", OPTIONS["prefer"].default), ("custom", "template"))
        self.templates = parse_templates(opts.get("templates"), prefer)
        self.api = self._build_api(settings, client, opts, clock)

    @staticmethod
    def _build_api(
        settings: GatewaySettings, client: httpx.AsyncClient, opts: Mapping[str, Any], clock: Clock
    ) -> WechatApi:
        api_base = str(opts.get("api_base", OPTIONS["api_base"].default))
        timeout = _number(opts, "timeout_seconds")
        endpoint = _choice("token_endpoint", opts.get("token_endpoint", OPTIONS["token_endpoint"].default),
                           ("stable", "token"))
        tokens = AccessTokenCache(
            client,
            api_base=api_base,
            appid=settings.get_str("appid"),
            secret=settings.get_str("secret"),
            stable=endpoint == "stable",
            margin=_number(opts, "token_refresh_margin_seconds"),
            timeout=timeout,
            clock=clock,
        )
        return WechatApi(client, tokens, api_base=api_base, timeout=timeout)

    def capabilities(self) -> Capabilities:
        """Free text on channel 'wechat'; one message per send, so segment counting yields 1."""
        return Capabilities(
            templates=None,
            single_segment_chars=MESSAGE_CHARS,
            multi_segment_chars=MESSAGE_CHARS,
            max_segments=1,
            rate_per_second=self._rate,
            channel="wechat",
            template_params={key: tuple(source for source in spec.fields.values() if source != TEXT_PARAM)
                             for key, spec in self.templates.items()},
        )

    async def send(self, sms: OutboundSms) -> SendResult:
        """Send by customer-service API, or by template when preferred or out of the 48 h window."""
        if not _OPENID.match(sms.to):
            raise SendError("wechat.bad_openid", "recipient is not an openid", retryable=False)
        spec = self.templates.get(sms.template_key)
        if spec is not None and spec.prefer == "template":
            return await self._send_template(sms, spec)
        if not sms.text.strip():
            raise SendError("wechat.empty", "empty text", retryable=False)
        try:
            await self.api.send_text(sms.to, sms.text)
        except SendError as exc:
            if spec is None or exc.code not in _WINDOW_CODES:
                raise
            return await self._send_template(sms, spec)
        # The customer-service API returns no message id and sends no receipt: a synthetic one.
        return SendResult((f"custom:{sms.idempotency_key}",))

    async def _send_template(self, sms: OutboundSms, spec: TemplateSpec) -> SendResult:
        msgid = await self.api.send_template(sms.to, spec.template_id, template_data(spec, sms), spec.url)
        return SendResult((msgid or f"template:{sms.idempotency_key}",))

    def verify_url(self, query: Mapping[str, str]) -> str:
        """Answer the GET URL verification: the echostr to return, or WebhookError(403)."""
        return verify_url(self.keys.token, query)

    def parse_push(self, req: WebhookRequest) -> WechatPush:
        """Verify and decode one POST push (messages, events and template reports alike)."""
        if req.method.upper() != "POST":
            raise WebhookError(400, "expected POST (GET is URL verification: use verify_url)")
        return decode_push(self.keys, req.query, req.body)

    def parse_inbound(self, req: WebhookRequest) -> list[InboundSms]:
        """Users' messages and events in a push (none for a template delivery report)."""
        return list(self.parse_push(req).inbound)

    def parse_receipt(self, req: WebhookRequest) -> list[DeliveryReceipt]:
        """Template delivery reports (TEMPLATESENDJOBFINISH) in a push; [] for anything else."""
        return list(self.parse_push(req).receipts)

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        """WeChat expects 'success' (or an empty body) when we send no passive reply."""
        return 200, "text/plain; charset=utf-8", b"success"

    def passive_reply(
        self, push: WechatPush, content: str, now: datetime, *, nonce: str | None = None
    ) -> tuple[int, str, bytes]:
        """The HTTP answer carrying `content` as a passive reply, encrypted when the push was.

        Empty content gives the plain ack: an empty text reply would show the user an error.
        """
        if not push.inbound:
            raise ValueError("push carries no user message to answer")
        if not content.strip():
            return self.ack("inbound")
        to_openid = push.inbound[0].sender
        from_account = self.account_id or push.inbound[0].recipient
        body = build_text_reply(to_openid, from_account, content, now)
        if push.encrypted and self.keys.aes_key is not None:
            body = encrypt_reply(
                body,
                token=self.keys.token,
                aes_key=self.keys.aes_key,
                appid=self.keys.appid,
                timestamp=str(int(now.timestamp())),
                nonce=nonce or str(secrets.randbelow(10**10)),
            )
        return 200, "application/xml; charset=utf-8", body
