"""The aiohttp application: `create_app(config, *, gateways=None, clock=None)` and `run_server`.

A cleanup context owns the Runtime (store, shared HTTP client, gateways, outbox dispatcher,
inbox processor): built when the app starts, stopped and closed when it shuts down.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from farmer_mailbox.clock import Clock
from farmer_mailbox.config import Config, ConfigError
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.serve_lock import serving
from farmer_mailbox.web import api, api_alerts, api_market, health, hooks, wechat
from farmer_mailbox.web.keys import RUNTIME
from gateways import Gateway

log = logging.getLogger(__name__)
LISTEN_BACKLOG = 1024  # Kannel's smsbox opens hundreds of callback connections at once


def create_app(config: Config, *, gateways: Mapping[str, Gateway] | None = None,
               clock: Clock | None = None, env: Mapping[str, str] | None = None,
               workers: bool = True, tree: RegionTree | None = None) -> web.Application:
    """Build the web application; the Runtime starts with the app and stops with it.

    `tree`: the database's region tree when the caller already holds it (tests skip rebuilding it).
    """
    app = web.Application(middlewares=[api.staff_auth], client_max_size=1024 * 1024)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        runtime = await Runtime.start(config, gateways=gateways, clock=clock, env=env, workers=workers,
                                      tree=tree)
        app[RUNTIME] = runtime
        app[api_alerts.ALERTS] = runtime.alerts
        yield
        await runtime.stop()

    app.cleanup_ctx.append(runtime_ctx)
    health.add_routes(app)
    hooks.add_routes(app)
    api.add_routes(app)
    api_alerts.add_routes(app)
    api_market.add_routes(app)
    wechat.add_routes(app)
    return app


async def run_server(config: Config) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly (one serving process per database)."""
    with serving(config.service.database):
        await _serve(config)


async def _serve(config: Config) -> None:
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.service.host, config.service.port, backlog=LISTEN_BACKLOG)
    try:
        await site.start()
    except OSError as exc:   # the port is taken, below 1024 without privileges, or no such address
        await runner.cleanup()
        raise ConfigError(f"service.host/port: cannot listen on {config.service.host}:{config.service.port} "
                          f"({exc.strerror or exc})") from None
    log.info("farmer-mailbox serving on http://%s:%d (config: %s)", config.service.host,
             config.service.port, config.source)
    print(f"farmer-mailbox serving on http://{config.service.host}:{config.service.port}", flush=True)  # noqa: T201
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
