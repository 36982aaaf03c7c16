"""The postings JSON API for liaisons and the bureau (bearer token per staff user, like /api/users).

GET  /api/postings?status=pending&limit=100   postings in the token user's area (status "all" for every state)
POST /api/postings/{id}/approve               open a held posting; it is matched at once (200)
POST /api/postings/{id}/hide                  {"reason"}: take a posting down; the poster is told (200)
Errors: 400 invalid input, 403 out of scope, 404 unknown posting, 409 not in a state for that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from farmer_mailbox.market import staff
from farmer_mailbox.market.staff import posting_json
from farmer_mailbox.validation import ValidationError
from farmer_mailbox.web.api import ACTOR_KEY, _json_body
from farmer_mailbox.web.common import json_error, json_ok, validation_response
from farmer_mailbox.web.keys import RUNTIME

STATUS_OF_CODE = {"posting.not_found": 404, "posting.state": 409}
STATES = ("pending", "open", "cancelled", "expired", "hidden", "all")
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _mapped(handler: Handler) -> Handler:
    """Refusals as JSON errors: unknown postings 404, wrong state 409, scope 403, the rest 400."""
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ValidationError as exc:
            status = STATUS_OF_CODE.get(exc.code)
            return json_error(status, exc.code, exc.message) if status else validation_response(exc)

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _posting_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


@_mapped
async def list_postings(request: web.Request) -> web.Response:
    """Postings in the caller's area, oldest first."""
    status = request.query.get("status", "pending")
    if status not in STATES:
        return json_error(400, "posting.status", f"status must be one of {', '.join(STATES)}")
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
    except ValueError:
        return json_error(400, "posting.limit", "limit must be a number")
    market = request.app[RUNTIME].market
    rows = await staff.list_postings(market, request[ACTOR_KEY], None if status == "all" else status, limit)
    return json_ok({"postings": [posting_json(r) for r in rows]})


@_mapped
async def approve(request: web.Request) -> web.Response:
    """Approve a held posting."""
    row = await staff.approve(request.app[RUNTIME].market, request[ACTOR_KEY], _posting_id(request))
    return json_ok(posting_json(row))


@_mapped
async def hide(request: web.Request) -> web.Response:
    """Hide a posting."""
    body = await _json_body(request) if request.can_read_body else {}
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    row = await staff.hide(request.app[RUNTIME].market, request[ACTOR_KEY], _posting_id(request), reason)
    return json_ok(posting_json(row))


def add_routes(app: web.Application) -> None:
    """Register the postings API routes."""
    app.router.add_get("/api/postings", list_postings)
    app.router.add_post("/api/postings/{id}/approve", approve)
    app.router.add_post("/api/postings/{id}/hide", hide)
