"""The alerts JSON API (bearer token per staff user, like /api/users); scope is the service's.

POST /api/alerts/preview         recipients, segments and cost by town, and each county's budget (200)
POST /api/alerts                 create: 201 scheduled, or 202 held for an admin (over budget)
GET  /api/alerts?status=&limit=  latest alerts the token's user may see
GET  /api/alerts/{id}            one alert with its progress
GET  /api/alerts/{id}/progress   copies by state: sent, delivered, failed, waiting (poll for a live bar)
POST /api/alerts/{id}/cancel     {"reason"}: unsent copies stop at once
POST /api/alerts/{id}/confirm    admins: let an alert held over budget go
POST /api/alerts/{id}/approve    {"send_at", "regions", "params"}: approve a pest-calendar draft
POST /api/alerts/{id}/discard    discard a draft
Errors: 400 invalid input, 403 out of scope, 404 unknown (or not yours), 409 not in a state for that.
Create and preview bodies: {"kind", "severity", "template", "params", "regions", "crops", "roles",
"send_at", "expires_at", "note", "confirm_budget"} (see farmer_mailbox/alerts/forms.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from farmer_mailbox.accounts import fail
from farmer_mailbox.alerts.forms import alert_view, draft_from, parse_when, words
from farmer_mailbox.alerts.model import Status
from farmer_mailbox.scoping import Actor
from farmer_mailbox.validation import ValidationError
from farmer_mailbox.web.api import ACTOR_KEY, _json_body
from farmer_mailbox.web.common import json_error, json_ok, validation_response

if TYPE_CHECKING:
    from farmer_mailbox.alerts.system import AlertSystem

ALERTS: web.AppKey[AlertSystem] = web.AppKey("alerts")
STATUS_OF_CODE = {"alert.not_found": 404, "alert.state": 409}
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _mapped(handler: Handler) -> Handler:
    """Refusals as JSON errors: unknown alerts 404, wrong state 409, scope 403, the rest 400."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ValidationError as exc:
            status = STATUS_OF_CODE.get(exc.code)
            return json_error(status, exc.code, exc.message) if status else validation_response(exc)

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _parts(request: web.Request) -> tuple[AlertSystem, Actor]:
    return request.app[ALERTS], request[ACTOR_KEY]


def _alert_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


@_mapped
async def preview(request: web.Request) -> web.Response:
    """Price an alert without creating it."""
    system, actor = _parts(request)
    service = system.service
    draft = draft_from(await _json_body(request), service.clock.now(), service.zone)
    return json_ok((await service.preview(actor, draft)).as_dict())


@_mapped
async def create(request: web.Request) -> web.Response:
    """Create an alert; 202 when it waits for an admin's confirmation."""
    system, actor = _parts(request)
    service = system.service
    body = await _json_body(request)
    alert, priced = await service.create(actor, draft_from(body, service.clock.now(), service.zone),
                                         confirm_budget=bool(body.get("confirm_budget")))
    view = {"alert": alert_view(alert, service.tree, zone=service.zone), "preview": priced.as_dict()}
    return json_ok(view, status=202 if alert.status is Status.HELD else 201)


@_mapped
async def list_alerts(request: web.Request) -> web.Response:
    """The latest alerts the token's user may see."""
    system, actor = _parts(request)
    status = request.query.get("status") or None
    if status is not None and status not in {s.value for s in Status}:
        return json_error(400, "status", f"status must be one of {', '.join(s.value for s in Status)}")
    try:
        limit = min(max(int(request.query.get("limit", "50")), 1), 500)
    except ValueError:
        return json_error(400, "limit", "limit must be a number")
    found = await system.service.list_alerts(actor, status, limit)
    return json_ok({"alerts": [alert_view(a, system.service.tree, zone=system.service.zone) for a in found]})


@_mapped
async def show(request: web.Request) -> web.Response:
    """One alert with its progress."""
    system, actor = _parts(request)
    alert, progress = await system.service.progress(actor, _alert_id(request))
    return json_ok(alert_view(alert, system.service.tree, progress, zone=system.service.zone))


@_mapped
async def progress(request: web.Request) -> web.Response:
    """An alert's copies by state and its status: what a live progress bar polls."""
    system, actor = _parts(request)
    alert, counts = await system.service.progress(actor, _alert_id(request))
    return json_ok({"id": alert.id, "status": alert.status.value, "recipients": alert.recipients,
                    **counts.as_dict()})


async def _act(request: web.Request, action: Callable[[AlertSystem, Actor, int, dict[str, Any]], Awaitable[Any]]
               ) -> web.Response:
    system, actor = _parts(request)
    alert_id = _alert_id(request)
    body = await _json_body(request) if request.can_read_body else {}
    alert = await action(system, actor, alert_id, body)
    return json_ok(alert_view(alert, system.service.tree, zone=system.service.zone))


@_mapped
async def cancel(request: web.Request) -> web.Response:
    """Cancel an alert; copies not yet sent stop at once."""
    return await _act(request, lambda s, a, i, b: s.service.cancel(a, i, str(b.get("reason") or "")))


@_mapped
async def confirm(request: web.Request) -> web.Response:
    """An admin lets an alert held over budget go."""
    return await _act(request, lambda s, a, i, b: s.service.confirm(a, i))


@_mapped
async def approve(request: web.Request) -> web.Response:
    """Approve a pest-calendar draft, optionally with a send time, narrower regions, edited params."""

    async def act(system: AlertSystem, actor: Actor, alert_id: int, body: dict[str, Any]) -> Any:
        service = system.service
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise fail("alert.params", template="approve", missing="params (an object)")
        when = parse_when(body.get("send_at"), service.clock.now(), service.zone)
        return await service.approve(actor, alert_id, when, params={str(k): str(v) for k, v in params.items()},
                                     regions=words(body.get("regions")))

    return await _act(request, act)


@_mapped
async def discard(request: web.Request) -> web.Response:
    """Discard a pest-calendar draft."""
    return await _act(request, lambda s, a, i, b: s.service.discard(a, i))


def add_routes(app: web.Application) -> None:
    """Register the alerts API routes."""
    app.router.add_post("/api/alerts/preview", preview)
    app.router.add_post("/api/alerts", create)
    app.router.add_get("/api/alerts", list_alerts)
    app.router.add_get("/api/alerts/{id}", show)
    app.router.add_get("/api/alerts/{id}/progress", progress)
    for name, handler in (("cancel", cancel), ("confirm", confirm), ("approve", approve), ("discard", discard)):
        app.router.add_post(f"/api/alerts/{{id}}/{name}", handler)
