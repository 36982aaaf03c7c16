"""Provider webhooks: /hooks/{gateway}/inbound and /hooks/{gateway}/receipt (GET or POST).

Write before acknowledging: inbound messages are committed (deduplicated) before the answer;
a refused request (bad signature 403, malformed 400) records nothing.
"""

from __future__ import annotations

import logging

from aiohttp import web

from farmer_mailbox.runtime import Runtime
from farmer_mailbox.web.common import webhook_request
from farmer_mailbox.web.keys import RUNTIME
from gateways import WebhookError

log = logging.getLogger(__name__)


def _runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def _gateway_name(request: web.Request) -> str:
    name = request.match_info["gateway"]
    if name not in _runtime(request).gateways:
        raise web.HTTPNotFound(text=f"no gateway named {name!r}\n")
    return name


def _answer(status: int, content_type: str, body: bytes) -> web.Response:
    mime, _, params = content_type.partition(";")
    charset = params.strip().removeprefix("charset=") or None
    return web.Response(status=status, body=body, content_type=mime.strip(), charset=charset)


def _refuse(name: str, kind: str, exc: WebhookError) -> web.Response:
    log.warning("gateway %s refused a %s webhook: %s %s", name, kind, exc.status, exc.reason)
    return web.Response(status=exc.status, text=exc.reason + "\n")


async def inbound(request: web.Request) -> web.Response:
    """A provider tells us about messages users sent."""
    runtime = _runtime(request)
    name = _gateway_name(request)
    gateway = runtime.gateways[name]
    try:
        req = await webhook_request(request, runtime.services.config.service.public_url)
        items = gateway.parse_inbound(req)
    except WebhookError as exc:
        return _refuse(name, "inbound", exc)
    await runtime.inbox.receive(name, gateway.capabilities().channel, items)
    return _answer(*gateway.ack("inbound"))


async def receipt(request: web.Request) -> web.Response:
    """A provider tells us what became of messages we sent."""
    runtime = _runtime(request)
    name = _gateway_name(request)
    gateway = runtime.gateways[name]
    try:
        req = await webhook_request(request, runtime.services.config.service.public_url)
        receipts = gateway.parse_receipt(req)
    except WebhookError as exc:
        return _refuse(name, "receipt", exc)
    await runtime.outbox.apply_receipts(name, receipts)
    return _answer(*gateway.ack("receipt"))


def add_routes(app: web.Application) -> None:
    """Register the webhook routes."""
    for method in ("GET", "POST"):
        app.router.add_route(method, "/hooks/{gateway}/inbound", inbound)
        app.router.add_route(method, "/hooks/{gateway}/receipt", receipt)
