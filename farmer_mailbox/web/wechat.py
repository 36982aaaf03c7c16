"""The WeChat Official Account server URL, /wechat: URL verification (GET) and pushes (POST).

POST: verify and decode the push (plain or safe mode, hardened XML) → commit the message before
answering (deduplicated: MsgId for messages, openid + CreateTime + event for events, so WeChat's
retries are processed once) → a passive reply when the answer is ready within
[wechat] passive_reply_seconds, else "success" and the answer goes through the outbox (the
customer-service API). Refused pushes record nothing: bad signature 403, malformed or oversized
body 400, a MsgId that another sender's message already has 400 (no retry of it: its reply is not
theirs). Template delivery reports arriving here update the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from farmer_mailbox import text as understanding
from farmer_mailbox.config import ConfigError
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.web.common import read_body
from farmer_mailbox.web.keys import RUNTIME
from farmer_mailbox.wechat.passive import PassiveReplies
from gateways import WebhookError, WebhookRequest
from gateways.wechat import WechatGateway

log = logging.getLogger(__name__)
CHANNEL = "wechat"


@dataclass
class WechatEndpoint:
    """The WeChat gateway serving /wechat and the passive-reply machinery."""

    name: str
    gateway: WechatGateway
    passive: PassiveReplies

    @classmethod
    def build(cls, runtime: Runtime) -> WechatEndpoint | None:
        """The endpoint for the configured WeChat gateway; None when there is none."""
        name = _gateway_name(runtime)
        if name is None:
            return None
        gateway = runtime.gateways[name]
        assert isinstance(gateway, WechatGateway)
        cfg = runtime.services.config.wechat
        passive = PassiveReplies(runtime.services.store, runtime.inbox, runtime.services.clock, name,
                                 cfg.passive_reply_seconds, runtime.outbox.wake)
        return cls(name, gateway, passive)


def _gateway_name(runtime: Runtime) -> str | None:
    wanted = runtime.services.config.wechat.gateway
    found = [n for n, gw in runtime.gateways.items() if isinstance(gw, WechatGateway)]
    if wanted:
        if wanted not in found:
            raise ConfigError(f"wechat.gateway: {wanted!r} is not a configured gateway of type wechat")
        return wanted
    if len(found) > 1:
        raise ConfigError(f"wechat.gateway: several wechat gateways ({', '.join(found)}); name the one for /wechat")
    return found[0] if found else None


WECHAT: web.AppKey[WechatEndpoint | None] = web.AppKey("wechat")


def _endpoint(request: web.Request) -> WechatEndpoint:
    endpoint = request.app[WECHAT]
    if endpoint is None:
        raise web.HTTPNotFound(text="no wechat gateway configured\n")
    return endpoint


def _answer(status: int, content_type: str, body: bytes) -> web.Response:
    mime, _, params = content_type.partition(";")
    charset = params.strip().removeprefix("charset=") or None
    return web.Response(status=status, body=body, content_type=mime.strip(), charset=charset)


def _refuse(kind: str, exc: WebhookError) -> web.Response:
    log.warning("wechat: refused a %s: %s %s", kind, exc.status, exc.reason)
    return web.Response(status=exc.status, text=exc.reason + "\n")


def _query(request: web.Request) -> dict[str, str]:
    return {k: request.query.getone(k) for k in request.query}


async def verify(request: web.Request) -> web.Response:
    """GET: WeChat checks the URL; echo `echostr` when the signature holds."""
    endpoint = _endpoint(request)
    try:
        echostr = endpoint.gateway.verify_url(_query(request))
    except WebhookError as exc:
        return _refuse("URL verification", exc)
    return web.Response(text=echostr)


async def push(request: web.Request) -> web.Response:
    """POST: a user's message or event (or a template delivery report)."""
    started = asyncio.get_running_loop().time()
    endpoint = _endpoint(request)
    runtime = request.app[RUNTIME]
    try:
        body = await read_body(request, endpoint.gateway.keys.max_body_bytes, too_large=400)
        pushed = endpoint.gateway.parse_push(WebhookRequest("POST", request.path, _query(request),
                                                            dict(request.headers), body, remote=request.remote or ""))
    except WebhookError as exc:
        return _refuse("push", exc)
    if pushed.receipts:
        await runtime.outbox.apply_receipts(endpoint.name, pushed.receipts)
    if not pushed.inbound:
        return _answer(*endpoint.gateway.ack("receipt"))
    new_ids = await runtime.inbox.receive(endpoint.name, CHANNEL, pushed.inbound, wake=False)
    first = pushed.inbound[0]
    inbound_id = new_ids[0] if new_ids else await runtime.services.store.inbound_id(endpoint.name, first.external_id,
                                                                                    first.sender)
    if inbound_id is None:
        # Not a retry: another sender's message has this MsgId. Its reply is not this sender's to see.
        return _refuse("push", WebhookError(400, "MsgId already used by another sender"))
    text = await endpoint.passive.answer(inbound_id, first.sender, started)
    if text is None:
        return _answer(*endpoint.gateway.ack("inbound"))
    return _answer(*endpoint.gateway.passive_reply(pushed, text, runtime.services.clock.now()))


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    """Build the endpoint once the Runtime runs; at shutdown, let running processing finish first."""
    endpoint = WechatEndpoint.build(app[RUNTIME])
    app[WECHAT] = endpoint
    if endpoint is not None:
        # The segmenter loads its dictionary on first use (about a second): do it now, not inside
        # the first user's passive-reply budget.
        understanding.parse("帮助")
    yield
    if endpoint is not None:
        await endpoint.passive.close()


def add_routes(app: web.Application) -> None:
    """Register /wechat (after the Runtime's cleanup context, so it starts after and stops before it)."""
    app.cleanup_ctx.append(_lifetime)
    app.router.add_get("/wechat", verify)
    app.router.add_post("/wechat", push)
