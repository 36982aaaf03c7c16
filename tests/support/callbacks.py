"""A callback server for tests: records the HTTP requests a provider (or Kannel) makes to us.

Usage from any pytest-asyncio test or fixture::

    from tests.support.callbacks import CallbackServer

    async with CallbackServer() as callbacks:                # or CallbackServer(handler)
        url = callbacks.url("/kannel/mo")                    # hand this to the provider
        ...
        request = await callbacks.wait_for("/kannel/mo")     # a gateways.WebhookRequest

`webhook_request()` turns an aiohttp request into the gateways' framework-neutral
WebhookRequest. Both used to live in `tests.support.kannel`, which still re-exports them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateways import WebhookRequest

__all__ = ["CallbackServer", "Handler", "webhook_request"]


Handler = Callable[[WebhookRequest], Awaitable[tuple[int, str, bytes]]]


async def webhook_request(request: web.Request) -> WebhookRequest:
    """Turn an aiohttp request into the gateways' framework-neutral WebhookRequest.

    `url` keeps the raw (still url-encoded) query, which `gateways.kannel` reads `bin` from.
    """
    query = {key: request.query.getone(key) for key in request.query}
    return WebhookRequest(
        method=request.method,
        path=request.path,
        query=query,
        headers=dict(request.headers),
        body=await request.read(),
        url=str(request.url),
        remote=request.remote or "",
    )


class CallbackServer:
    """An aiohttp server on a free 127.0.0.1 port that records every request.

    Answers with `handler(req)` when given, else 200 and an empty body (Kannel counts only
    200/202 as delivered). Listen backlog 512: smsbox opens hundreds of parallel connections.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.requests: list[WebhookRequest] = []
        self.port = 0
        self._taken: set[int] = set()
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> CallbackServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=512)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        req = await webhook_request(request)
        self.requests.append(req)
        self._arrived.set()
        if self.handler is None:
            return web.Response(status=200, body=b"")
        status, content_type, body = await self.handler(req)
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    async def wait_for(self, path: str, *, timeout: float = 5.0) -> WebhookRequest:
        """The next request to `path` not yet returned by wait_for."""
        async with asyncio.timeout(timeout):
            while True:
                for index, req in enumerate(self.requests):
                    if index not in self._taken and req.path == path:
                        self._taken.add(index)
                        return req
                self._arrived.clear()
                await self._arrived.wait()
