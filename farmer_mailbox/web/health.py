"""GET /healthz: database reachability and queue depths, as JSON (503 when the database is gone)."""

from __future__ import annotations

from aiohttp import web

from farmer_mailbox import __version__
from farmer_mailbox.web.common import json_ok
from farmer_mailbox.web.keys import RUNTIME


async def healthz(request: web.Request) -> web.Response:
    """Report whether the service can do its job right now."""
    runtime = request.app[RUNTIME]
    store = runtime.services.store
    reachable = await store.ping()
    body: dict[str, object] = {"status": "ok" if reachable else "error", "version": __version__,
                               "database": {"reachable": reachable}}
    if reachable:
        body["database"] = {"reachable": True, "schema_version": await store.schema_version()}
        body["queues"] = {
            "inbound_pending": await store.count_pending_inbound(),
            "outbox": await store.outbox_depths(),
        }
        body["workers"] = {t.get_name(): ("running" if not t.done() else "stopped") for t in runtime.tasks}
        body["market"] = {"open_postings_indexed": len(runtime.market.book.index)}
        body["alerts"] = await store.alerts_awaiting_staff()   # held for an admin, drafts for an officer
        body["scheduler"] = runtime.alerts.scheduler.status()
        if any(t.done() for t in runtime.tasks) and not runtime.stop_event.is_set():
            body["status"] = "degraded"
    return json_ok(body, status=200 if reachable else 503)


def add_routes(app: web.Application) -> None:
    """Register the health route."""
    app.router.add_get("/healthz", healthz)
