"""Helpers shared by the handlers: JSON errors, bearer-token staff, framework-neutral requests."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from farmer_mailbox.validation import ValidationError
from gateways import WebhookError, WebhookRequest

MAX_WEBHOOK_BYTES = 256 * 1024
STATUS_OF_CODE = {"scope": 403, "user.not_found": 404, "duplicate": 409}


def json_error(status: int, code: str, message: str) -> web.Response:
    """A JSON error body: {"error": {"code", "message"}}."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status,
                             dumps=_dumps)


def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


def json_ok(obj: Any, status: int = 200) -> web.Response:
    """A JSON body with Chinese left readable."""
    return web.json_response(obj, status=status, dumps=_dumps)


def validation_response(exc: ValidationError) -> web.Response:
    """Map a refused input to 400, or 403/404/409 by its code family."""
    status = STATUS_OF_CODE.get(exc.code) or STATUS_OF_CODE.get(exc.code.split(".")[0], 400)
    return json_error(status, exc.code, exc.message)


async def read_body(request: web.Request, limit: int, *, too_large: int = 413) -> bytes:
    """The whole request body, read in chunks: one read returns what has arrived, maybe part of it.

    WebhookError(`too_large`) past `limit` bytes (without reading much more), 400 when the body
    does not decode as its Content-Encoding says.
    """
    body = bytearray()
    while len(body) <= limit:
        try:
            chunk = await request.content.read(limit + 1 - len(body))
        except web.RequestPayloadError as exc:
            raise WebhookError(400, "unreadable body (bad Content-Encoding?)") from exc
        if not chunk:
            return bytes(body)
        body += chunk
    raise WebhookError(too_large, f"body larger than {limit} bytes")


async def webhook_request(request: web.Request, public_url: str) -> WebhookRequest:
    """Turn an aiohttp request into the gateways' neutral WebhookRequest (body size capped: 413)."""
    body = await read_body(request, MAX_WEBHOOK_BYTES)
    # `url` keeps the raw, still-encoded query: Kannel's `bin` for UCS-2 is not UTF-8, and
    # Twilio signs the URL exactly as it called it (our public URL, not our bind address).
    return WebhookRequest(
        method=request.method, path=request.path, query={k: request.query.getone(k) for k in request.query},
        headers=dict(request.headers), body=body,
        url=public_url.rstrip("/") + request.raw_path, remote=request.remote or "",
    )

