"""The staff JSON API (bearer token per staff user); scoping is enforced by the account service.

POST /api/users            register (201), 400 invalid, 403 out of scope, 409 duplicate
GET  /api/users/{phone}    one user (ID masked)
PATCH /api/users/{phone}   edit status, flagged, village, interests
GET  /api/me               the token's own user
GET  /api/regions/resolve?name=横河&near=CODE
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.models import Channel, Level
from farmer_mailbox.scoping import Actor
from farmer_mailbox.validation import ValidationError
from farmer_mailbox.web.common import json_error, json_ok, validation_response
from farmer_mailbox.web.keys import RUNTIME
from gateways.common import mend_surrogates

ACTOR_KEY: web.RequestKey[Actor] = web.RequestKey("actor", Actor)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def staff_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require `Authorization: Bearer <token>` of an active staff user on /api/ routes."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return json_error(401, "auth.missing", "Authorization: Bearer <token> required")
    accounts = request.app[RUNTIME].services.accounts
    user = await accounts.user_for_token(token.strip())
    if user is None:
        return json_error(401, "auth.invalid", "unknown, revoked or non-staff token")
    request[ACTOR_KEY] = await accounts.actor_for(user, Channel.API)
    try:
        return await handler(request)
    except ValidationError as exc:
        return validation_response(exc)


def _loads(text: str) -> Any:
    """JSON with lone surrogates mended (valid JSON, but no database can store them)."""
    return mend_surrogates(json.loads(text))


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=_loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='{"error": {"code": "json", "message": "body is not JSON"}}',
                                 content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": {"code": "json", "message": "expected an object"}}',
                                 content_type="application/json")
    return body


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(w for w in str(value or "").replace("，", ",").split(",") if w.strip())


async def create_user(request: web.Request) -> web.Response:
    """Register a user as the token's staff user."""
    body = await _json_body(request)
    form = RegistrationForm(
        name=str(body.get("name", "")), id_number=str(body.get("id_number", "")),
        phone=str(body.get("phone", "")), village=str(body.get("village", "")),
        role=str(body.get("role", "farmer")), interests=_words(body.get("interests")),
        liaison_point=str(body.get("liaison_point", "")), county=str(body.get("county", "")),
    )
    actor = request[ACTOR_KEY]
    accounts = request.app[RUNTIME].services.accounts
    user = await accounts.register(actor, form)
    return json_ok(accounts.view(actor, user), status=201)


async def get_user(request: web.Request) -> web.Response:
    """Show one user, masked as the viewer may see them."""
    actor = request[ACTOR_KEY]
    accounts = request.app[RUNTIME].services.accounts
    user = await accounts.find(request.match_info["phone"])
    return json_ok(accounts.view(actor, user))


async def patch_user(request: web.Request) -> web.Response:
    """Edit a user within the staff user's scope."""
    body = await _json_body(request)
    allowed = {"status", "flagged", "village", "interests"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        return json_error(400, "fields", f"cannot change {', '.join(unknown)}; allowed: {sorted(allowed)}")
    if "interests" in body:
        body["interests"] = list(_words(body["interests"]))
    if "status" in body and body["status"] not in ("active", "opted_out", "suspended"):
        return json_error(400, "status", "status must be active, opted_out or suspended")
    actor = request[ACTOR_KEY]
    accounts = request.app[RUNTIME].services.accounts
    user = await accounts.update(actor, request.match_info["phone"], **body)
    return json_ok(accounts.view(actor, user))


async def me(request: web.Request) -> web.Response:
    """The token's own account."""
    actor = request[ACTOR_KEY]
    assert actor.user is not None
    return json_ok(request.app[RUNTIME].services.accounts.view(actor, actor.user))


async def resolve_region(request: web.Request) -> web.Response:
    """Resolve a free-text place name (near a village code when given)."""
    tree = request.app[RUNTIME].services.tree
    name = request.query.get("name", "")
    if not name.strip():
        return json_error(400, "name", "query parameter name is required")
    result = tree.resolve(name, request.query.get("near") or None)

    def show(code: str) -> dict[str, str]:
        return {"code": code, "path": tree.display(code, Level.PROVINCE)}

    return json_ok({
        "mention": result.mention, "ambiguous": result.ambiguous,
        "region": show(result.region.code) if result.region else None,
        "candidates": [show(r.code) for r in result.candidates[:20]],
    })


def add_routes(app: web.Application) -> None:
    """Register the API routes."""
    app.router.add_post("/api/users", create_user)
    app.router.add_get("/api/users/{phone}", get_user)
    app.router.add_patch("/api/users/{phone}", patch_user)
    app.router.add_get("/api/me", me)
    app.router.add_get("/api/regions/resolve", resolve_region)
