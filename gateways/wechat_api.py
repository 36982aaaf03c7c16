"""WeChat Official Account HTTP API: the access_token cache and the two send calls.

- access_token: `GET /cgi-bin/token?grant_type=client_credential&appid=&secret=` (getAccessToken)
  or `POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh}` (getStableAccessToken,
  which WeChat's docs recommend; it keeps the secret out of URLs and logs). Both answer
  `{"access_token", "expires_in"}` (≤ 7200 s) or `{"errcode", "errmsg"}`. Every API call carries
  the token as `?access_token=`; 40001/40014/42001 mean invalid or expired.
- Customer-service message (客服消息): `POST /cgi-bin/message/custom/send`
  `{"touser", "msgtype": "text", "text": {"content"}}`; only within 48 hours of the user's last
  interaction, else errcode 45015 (45047: over the reply count for the window).
- Template message (模板消息): `POST /cgi-bin/message/template/send`
  `{"touser", "template_id", "url"?, "data": {key: {"value"}}}` → `{"errcode": 0, "msgid"}`.

Bodies are sent as raw UTF-8 JSON (`ensure_ascii=False`), as wechatpy does. Every failure is a
SendError carrying its retry policy; messages never contain the secret or a token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateways import SendError

DEFAULT_API_BASE = "https://api.weixin.qq.com"
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid credential / invalid token / expired
# System busy, and the API frequency limits (45009 daily quota, 45011 per-minute): try later.
RETRYABLE_ERRCODES = frozenset({-1, 45009, 45011})
WINDOW_ERRCODES = frozenset({45015, 45047})  # outside the 48-hour window / over its reply count

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A token and the monotonic time after which we stop using it."""

    value: str
    refresh_at: float


def errcode_of(result: Mapping[str, Any]) -> int:
    """Return the response's errcode as an int (absent means 0, WeChat's success)."""
    try:
        return int(result.get("errcode", 0))
    except (TypeError, ValueError):
        return -1


def error_for(result: Mapping[str, Any], prefix: str = "wechat") -> SendError:
    """Map a WeChat error response to SendError with its retry policy."""
    code = errcode_of(result)
    retryable = code in RETRYABLE_ERRCODES or code in TOKEN_ERRCODES
    return SendError(f"{prefix}.{code}", str(result.get("errmsg", ""))[:200], retryable=retryable)


def refresh_time(now: float, expires_in: float, margin: float) -> float:
    """When to refresh a token valid `expires_in` s: `margin` s early, but never past half-life."""
    return now + max(expires_in - margin, expires_in / 2)


class AccessTokenCache:
    """Caches the access_token, refreshes it ahead of expiry, one fetch in flight at a time."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base: str,
        appid: str,
        secret: str,
        stable: bool = True,
        margin: float = 300.0,
        timeout: float = 5.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._client = client
        self._api_base = api_base.rstrip("/")
        self._appid = appid
        self._secret = secret
        self._stable = stable
        self._margin = margin
        self._timeout = timeout
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _current(self) -> str | None:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        return None

    async def get(self) -> str:
        """Return a valid token, fetching one when none is cached or it is near expiry."""
        current = self._current()
        if current is not None:
            return current
        async with self._lock:
            current = self._current()  # another task may have refreshed while we waited
            if current is not None:
                return current
            return await self._store(force=False)

    async def refresh(self, stale: str) -> str:
        """Replace a token WeChat refused, unless another task already replaced it."""
        async with self._lock:
            current = self._current()
            if current is not None and current != stale:
                return current
            fresh = await self._store(force=False)
            if fresh == stale and self._stable:
                # The stable endpoint hands back the same token while it thinks it valid;
                # force_refresh (limited to 20 a day) is the documented way to replace it.
                fresh = await self._store(force=True)
            return fresh

    async def _store(self, *, force: bool) -> str:
        result = await self._fetch(force=force)
        value = result.get("access_token")
        if not isinstance(value, str) or not value:
            raise error_for(result, "wechat.token")
        try:
            expires_in = float(result.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200.0
        self._token = AccessToken(value, refresh_time(self._clock(), expires_in, self._margin))
        self.fetches += 1
        return value

    async def _fetch(self, *, force: bool) -> Mapping[str, Any]:
        if self._stable:
            body = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}
            payload = {**body, "force_refresh": force}
            return await request_json(
                self._client, "POST", f"{self._api_base}/cgi-bin/stable_token", self._timeout, payload
            )
        params = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}
        return await request_json(
            self._client, "GET", f"{self._api_base}/cgi-bin/token", self._timeout, None, params
        )


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    timeout: float,
    payload: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
) -> Mapping[str, Any]:
    """Make one API call and return its JSON object; SendError on transport or HTTP failure."""
    content = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {} if content is None else {"Content-Type": "application/json; charset=utf-8"}
    try:
        resp = await client.request(
            method, url, params=params, content=content, headers=headers, timeout=timeout
        )
    except httpx.TimeoutException as exc:
        raise SendError("wechat.timeout", type(exc).__name__, retryable=True) from exc
    except httpx.TransportError as exc:
        raise SendError("wechat.network", type(exc).__name__, retryable=True) from exc
    if resp.status_code != 200:
        retryable = resp.status_code >= 500 or resp.status_code == 429
        raise SendError(f"wechat.http_{resp.status_code}", retryable=retryable)
    try:
        result = resp.json()
    except ValueError as exc:
        raise SendError("wechat.bad_response", "not JSON", retryable=True) from exc
    if not isinstance(result, dict):
        raise SendError("wechat.bad_response", "not a JSON object", retryable=True)
    return result


class WechatApi:
    """The customer-service and template-message calls, with one token refresh on 40001."""

    def __init__(
        self, client: httpx.AsyncClient, tokens: AccessTokenCache, *, api_base: str, timeout: float
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._api_base = api_base.rstrip("/")
        self._timeout = timeout

    async def call(self, path: str, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """POST to an API path with the token; refresh the token once if WeChat refuses it."""
        token = await self._tokens.get()
        result = await self._post(path, token, payload)
        if errcode_of(result) in TOKEN_ERRCODES:
            token = await self._tokens.refresh(token)
            result = await self._post(path, token, payload)
        if errcode_of(result) != 0:
            raise error_for(result)
        return result

    async def _post(self, path: str, token: str, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        url = f"{self._api_base}{path}"
        params = {"access_token": token}
        return await request_json(self._client, "POST", url, self._timeout, payload, params)

    async def send_text(self, openid: str, content: str) -> None:
        """Send a customer-service text message (only inside the 48-hour window)."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        await self.call("/cgi-bin/message/custom/send", payload)

    async def send_template(
        self, openid: str, template_id: str, data: Mapping[str, str], url: str = ""
    ) -> str:
        """Send a template message; return WeChat's msgid (the key of its delivery event)."""
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
        }
        if url:
            payload["url"] = url
        result = await self.call("/cgi-bin/message/template/send", payload)
        return str(result.get("msgid", ""))
