"""QWeather (和风天气) warnings: /weatheralert/v1/current/{lat}/{lon} and the older /v7/warning/now.

Both need the developer's own API Host and an API KEY in the `X-QW-Api-Key` header (secret from
env). v1 speaks CAP: `messageType.code` alert/update/cancel with `supersedes` ids; v7 has
`status` active/update/cancel with one `related` id. v7 stops on 2026-10-01 per QWeather's
deprecation note; it is kept for keys that still use it. Sample bodies: tests/alerts/fixtures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from .warnings import (
    OfficialWarning,
    WarningArea,
    WarningFeedError,
    WarningStatus,
    colour_of,
    sender_of,
)

V7_STATUS = {"active": WarningStatus.ALERT, "update": WarningStatus.UPDATE, "cancel": WarningStatus.CANCEL}
V1_STATUS = {"alert": WarningStatus.ALERT, "update": WarningStatus.UPDATE, "cancel": WarningStatus.CANCEL}


class QWeatherSource:
    """A WarningSource over QWeather's API (v1 by coordinates, or v7 by LocationID or coordinates)."""

    name = "qweather"

    def __init__(self, client: httpx.AsyncClient, base_url: str, key: str, api: str = "v1") -> None:
        self.client, self.base_url, self.api = client, base_url.rstrip("/"), api
        self.headers = {"X-QW-Api-Key": key, "Accept-Encoding": "gzip"}

    async def fetch(self, area: WarningArea) -> list[OfficialWarning]:
        """Warnings for one area; WarningFeedError when the call or its body fails."""
        if self.api == "v7":
            location = area.location or (f"{area.point.lon:.2f},{area.point.lat:.2f}" if area.point else "")
            url, params = f"{self.base_url}/v7/warning/now", {"location": location, "lang": "zh"}
        else:
            if area.point is None:
                raise WarningFeedError(f"no coordinates for area {area.region}; give region=lon,lat")
            url = f"{self.base_url}/weatheralert/v1/current/{area.point.lat:.2f}/{area.point.lon:.2f}"
            params = {"localTime": "true", "lang": "zh"}
        body = await self._get(url, params)
        return parse_v7(body) if self.api == "v7" else parse_v1(body)

    async def _get(self, url: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        try:
            response = await self.client.get(url, params=params, headers=self.headers)
        except httpx.HTTPError as exc:
            raise WarningFeedError(f"qweather request failed: {exc!r}") from exc
        if response.status_code != 200:
            raise WarningFeedError(f"qweather HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise WarningFeedError("qweather answered with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise WarningFeedError("qweather answered with JSON that is not an object")
        return body


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return value.strip() if isinstance(value, str) else ""


def _object(item: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = item.get(key)
    return value if isinstance(value, dict) else {}


def parse_v7(body: Mapping[str, Any]) -> list[OfficialWarning]:
    """Warnings from a /v7/warning/now body; code 200 with none is an empty list."""
    code = str(body.get("code", ""))
    if code != "200":
        raise WarningFeedError(f"qweather v7 answered code {code or '?'}")
    items = body.get("warning") or []
    if not isinstance(items, list):
        raise WarningFeedError("qweather v7: 'warning' is not a list")
    return [_v7(item) for item in items if isinstance(item, dict) and _text(item, "id")]


def _v7(item: Mapping[str, Any]) -> OfficialWarning:
    title = _text(item, "title")
    related = _text(item, "related")
    return OfficialWarning(
        id=_text(item, "id"), sender=sender_of(_text(item, "sender"), title), title=title,
        text=_text(item, "text"), type_code=_text(item, "type"), type_name=_text(item, "typeName"),
        colour=colour_of(_text(item, "severityColor"), title, _text(item, "severity")),
        status=V7_STATUS.get(_text(item, "status").lower(), WarningStatus.ALERT),
        supersedes=(related,) if related else (), issued=_time(item.get("pubTime")),
        start=_time(item.get("startTime")), end=_time(item.get("endTime")), raw=dict(item),
    )


def parse_v1(body: Mapping[str, Any]) -> list[OfficialWarning]:
    """Warnings from a /weatheralert/v1/current body (`alerts`, possibly empty with zeroResult)."""
    if "alerts" not in body and "metadata" not in body:
        raise WarningFeedError("qweather v1: neither 'alerts' nor 'metadata' in the body")
    items = body.get("alerts") or []
    if not isinstance(items, list):
        raise WarningFeedError("qweather v1: 'alerts' is not a list")
    return [_v1(item) for item in items if isinstance(item, dict) and _text(item, "id")]


def _v1(item: Mapping[str, Any]) -> OfficialWarning:
    headline = _text(item, "headline")
    message, event, colour = (_object(item, key) for key in ("messageType", "eventType", "color"))
    supersedes = message.get("supersedes")
    supersedes = supersedes if isinstance(supersedes, list) else []
    return OfficialWarning(
        id=_text(item, "id"), sender=sender_of(_text(item, "senderName"), headline), title=headline,
        text=_text(item, "description"), type_code=_text(event, "code"), type_name=_text(event, "name"),
        colour=colour_of(_text(colour, "code"), headline, _text(item, "severity")),
        status=V1_STATUS.get(_text(message, "code").lower(), WarningStatus.ALERT),
        supersedes=tuple(str(s) for s in supersedes if s), issued=_time(item.get("issuedTime")),
        start=_time(item.get("effectiveTime")) or _time(item.get("onsetTime")),
        end=_time(item.get("expireTime")) or _time(item.get("expiredTime")), raw=dict(item),
    )
