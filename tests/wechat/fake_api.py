"""A fake WeChat Official Account API on 127.0.0.1 (random port), for gateway and end-to-end tests.

It speaks the subset the WeChat gateway uses, checks what real WeChat checks, and records
what it received:

- `GET /cgi-bin/token` and `POST /cgi-bin/stable_token` issue tokens valid `token_ttl` seconds
  on `clock`; a new classic token leaves older ones valid 5 more minutes, as WeChat documents.
  Wrong appid → 40013, wrong secret → 40125.
- `POST /cgi-bin/message/custom/send` and `/cgi-bin/message/template/send` check the token on
  every call (unknown → 40001, expired → 42001) and the payload shape (→ 47001), then answer
  43004 for `unsubscribed` openids, 45015 (custom only) for `outside_window` openids, else 0
  (template: with a fresh `msgid`).

Usage:

    async with FakeWechatApi(appid="wx123", secret="s3cret") as api:
        settings = GatewaySettings("wechat", "wechat", {"token": "tok", "appid": "wx123",
                                   "secret": "s3cret", "api_base": api.base_url})
        ...
        assert api.texts == [("o_openid", "您好")]        # customer-service texts received
        api.fail_next("custom", 45015)                    # script errcodes (or -1, 40001, ...)
        api.fail_next("custom", http_status=503)          # or an HTTP failure
        api.revoke_tokens()                               # every issued token → 40001

`api.requests` holds every call (`Recorded(endpoint, query, json)`); `api.templates_sent` the
template payloads; `api.token_requests` counts token fetches. `api.violations` lists the calls
refused because the caller got something wrong (credentials, token, payload shape), as
"errcode errmsg"; refusals of a well-formed call (43004, 45015, scripted answers) are not
violations. `api.script.append(response)` answers the next message call (custom or template)
with that aiohttp response once its token checks out; `api.delay` stalls every answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

MESSAGE_ENDPOINTS = ("custom", "template")  # the calls that send a message (not token fetches)
OLD_TOKEN_GRACE = 300.0  # seconds an older classic token stays valid after a new one is issued
_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FakeClock:
    """A monotonic clock tests move by hand; share one between the gateway and the fake API."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass(frozen=True)
class Recorded:
    """One API call as the fake received it."""

    endpoint: str
    query: dict[str, str]
    json: Any


@dataclass
class _Scripted:
    errcode: int | None = None
    http_status: int | None = None


def _err(code: int, msg: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": msg})


@dataclass
class FakeWechatApi:
    """The fake server; start with `async with` or `await start()`, then use `base_url`."""

    appid: str = "wx0000000000000000"
    secret: str = "fake-app-secret"
    token_ttl: int = 7200
    clock: Callable[[], float] = time.monotonic
    outside_window: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    templates_sent: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    violations: list[str] = field(default_factory=list)
    script: deque[web.Response] = field(default_factory=deque)
    delay: float = 0.0
    base_url: str = ""
    _tokens: dict[str, float] = field(default_factory=dict)
    _stable: str = ""
    _script: dict[str, deque[_Scripted]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Listen on 127.0.0.1:<random port>; return the base URL."""
        @web.middleware
        async def stall(request: web.Request, handler: Handler) -> web.StreamResponse:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await handler(request)

        app = web.Application(middlewares=[stall])
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeWechatApi:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(self, endpoint: str, *errcodes: int, http_status: int | None = None) -> None:
        """Answer the next calls to endpoint ('token', 'stable_token', 'custom', 'template')
        with these errcodes in turn, or with one bare HTTP status."""
        queue = self._script.setdefault(endpoint, deque())
        queue.extend(_Scripted(errcode=code) for code in errcodes)
        if http_status is not None:
            queue.append(_Scripted(http_status=http_status))

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (WeChat then answers 40001)."""
        self._tokens.clear()
        self._stable = ""

    def issued_tokens(self) -> list[str]:
        """Tokens currently valid."""
        now = self.clock()
        return [tok for tok, expiry in self._tokens.items() if now < expiry]

    # -- handlers ------------------------------------------------------------------------------

    def _scripted(self, endpoint: str) -> web.Response | None:
        queue = self._script.get(endpoint)
        if not queue:
            if self.script and endpoint in MESSAGE_ENDPOINTS:
                return self.script.popleft()
            return None
        step = queue.popleft()
        if step.http_status is not None:
            return web.Response(status=step.http_status, text="scripted failure")
        return _err(step.errcode or 0, "scripted")

    def _issue(self) -> str:
        now = self.clock()
        for tok, expiry in self._tokens.items():
            self._tokens[tok] = min(expiry, now + OLD_TOKEN_GRACE)
        token = f"FAKE_ACCESS_TOKEN_{next(self._ids)}"
        self._tokens[token] = now + self.token_ttl
        return token

    def _refuse(self, code: int, msg: str) -> web.Response:
        """Answer a call the caller got wrong, and keep it in `violations`."""
        self.violations.append(f"{code} {msg}")
        return _err(code, msg)

    def _check_app(self, appid: object, secret: object) -> web.Response | None:
        if appid != self.appid:
            return self._refuse(40013, "invalid appid")
        if secret != self.secret:
            return self._refuse(40125, "invalid appsecret")
        return None

    async def _token(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.token_requests += 1
        self.requests.append(Recorded("token", {k: v for k, v in query.items() if k != "secret"}, None))
        scripted = self._scripted("token")
        if scripted is not None:
            return scripted
        if query.get("grant_type") != "client_credential":
            return self._refuse(40002, "invalid grant_type")
        refused = self._check_app(query.get("appid"), query.get("secret"))
        if refused is not None:
            return refused
        return web.json_response({"access_token": self._issue(), "expires_in": self.token_ttl})

    async def _stable_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_requests += 1
        public = {k: v for k, v in body.items() if k != "secret"} if isinstance(body, dict) else body
        self.requests.append(Recorded("stable_token", dict(request.query), public))
        scripted = self._scripted("stable_token")
        if scripted is not None:
            return scripted
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return self._refuse(40002, "invalid grant_type")
        refused = self._check_app(body.get("appid"), body.get("secret"))
        if refused is not None:
            return refused
        now = self.clock()
        expiry = self._tokens.get(self._stable, 0.0)
        # Normal mode hands back the current token while valid (WeChat renews it 5 min early).
        if body.get("force_refresh") or now >= expiry - OLD_TOKEN_GRACE:
            self._stable = self._issue()
            expiry = self._tokens[self._stable]
        return web.json_response({"access_token": self._stable, "expires_in": int(expiry - now)})

    async def _authorized(self, request: web.Request, endpoint: str) -> tuple[Any, web.Response | None]:
        raw = await request.read()
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            payload = None
        self.requests.append(Recorded(endpoint, dict(request.query), payload))
        token = request.query.get("access_token", "")
        expiry = self._tokens.get(token)
        if expiry is None:
            return payload, self._refuse(40001, "invalid credential, access_token is invalid or not latest")
        if self.clock() >= expiry:
            return payload, self._refuse(42001, "access_token expired")
        scripted = self._scripted(endpoint)
        if scripted is not None:
            return payload, scripted
        if not isinstance(payload, dict) or not _OPENID.match(str(payload.get("touser", ""))):
            return payload, self._refuse(40003, "invalid openid")
        if payload["touser"] in self.unsubscribed:
            return payload, _err(43004, "require subscribe")
        return payload, None

    async def _custom(self, request: web.Request) -> web.Response:
        payload, refused = await self._authorized(request, "custom")
        if refused is not None:
            return refused
        text = payload.get("text")
        content = text.get("content") if isinstance(text, dict) else None
        if payload.get("msgtype") != "text" or not isinstance(content, str) or not content:
            return self._refuse(47001, "data format error")
        if payload["touser"] in self.outside_window:
            return _err(45015, "response out of time limit or subscription is canceled")
        self.texts.append((payload["touser"], content))
        return _err(0, "ok")

    async def _template(self, request: web.Request) -> web.Response:
        payload, refused = await self._authorized(request, "template")
        if refused is not None:
            return refused
        data = payload.get("data")
        if not isinstance(payload.get("template_id"), str) or not payload["template_id"]:
            return self._refuse(40037, "invalid template_id")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
        ):
            return self._refuse(47001, "data format error")
        self.templates_sent.append(payload)
        msgid = 3_000_000_000 + next(self._ids)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})
