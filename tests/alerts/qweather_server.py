"""A local QWeather look-alike: replays the documented sample bodies, and scenarios built from them."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from farmer_mailbox.alerts.forecast import point_of

FIXTURES = Path(__file__).parent / "fixtures" / "qweather"
KEY = "test-qweather-key"
SH = ZoneInfo("Asia/Shanghai")
EMPTY_V1: dict[str, Any] = {"metadata": {"tag": "0", "zeroResult": True, "attributions": []}, "alerts": []}
EMPTY_V7: dict[str, Any] = {"code": "200", "updateTime": "2026-07-07T22:00+08:00", "warning": []}
COLOURS = {"blue": (30, 50, 205), "yellow": (255, 200, 0), "orange": (255, 130, 0), "red": (230, 0, 0)}
ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
SEVERITY = {"blue": "minor", "yellow": "moderate", "orange": "severe", "red": "extreme"}


def sample(name: str) -> dict[str, Any]:
    """A fixture body as published in QWeather's docs."""
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return body


def v1_path(region: str) -> str:
    """The /weatheralert/v1 path our adapter asks for a region (its packaged centroid)."""
    point = point_of(region.ljust(12, "0"))
    assert point is not None
    return f"/weatheralert/v1/current/{point.lat:.2f}/{point.lon:.2f}"


def v1_alert(warning_id: str, *, sender: str = "慈溪市气象台", event: tuple[str, str] = ("暴雨", "1003"),
             colour: str = "red", message: str = "alert", supersedes: tuple[str, ...] = (),
             issued: datetime | None = None, hours: int = 12) -> dict[str, Any]:
    """One v1 alert: the documented sample with its values changed."""
    item: dict[str, Any] = copy.deepcopy(sample("getWeatherAlertCurrent-zh.json")["alerts"][0])
    issued = issued or datetime(2026, 7, 7, 22, 0, tzinfo=SH)
    verb = {"alert": "发布", "update": "更新", "cancel": "解除"}[message]
    item.update({
        "id": warning_id, "senderName": sender, "issuedTime": issued.isoformat(timespec="minutes"),
        "messageType": {"code": message, "supersedes": list(supersedes)},
        "eventType": {"name": event[0], "code": event[1]}, "severity": SEVERITY[colour], "icon": event[1],
        "color": dict(zip(("red", "green", "blue"), COLOURS[colour], strict=True), code=colour, alpha=1),
        "effectiveTime": issued.isoformat(timespec="minutes"), "onsetTime": issued.isoformat(timespec="minutes"),
        "expireTime": (issued + timedelta(hours=hours)).isoformat(timespec="minutes"),
        "headline": f"{sender}{verb}{event[0]}{ZH[colour]}预警信号",
        "description": f"{sender}{issued.day}日{issued.hour}时{verb}{event[0]}{ZH[colour]}预警信号：预计未来3小时内"
                       "我市大部地区降雨量将达100毫米以上,请立即转移低洼地带人员,加固大棚,疏通沟渠,防范山洪和地质灾害。",
    })
    return item


def v1_body(*alerts: dict[str, Any]) -> dict[str, Any]:
    """A v1 response body holding these alerts."""
    body = sample("getWeatherAlertCurrent-zh.json")
    body["alerts"] = list(alerts)
    body["metadata"]["zeroResult"] = not alerts
    return body


class QWeatherServer:
    """aiohttp server: answers each path from `bodies` (empty answer by default), checks the key."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[int, Any]] = {}
        self.requests: list[web.Request] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    def answer(self, path: str, body: Any, status: int = 200) -> None:
        """What to answer on `path` from now on."""
        self.bodies[path] = (status, body)

    async def __aenter__(self) -> QWeatherServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        if request.headers.get("X-QW-Api-Key") != KEY:
            return web.json_response({"error": {"status": 401, "type": "unauthorized"}}, status=401)
        default = EMPTY_V7 if request.path.startswith("/v7/") else EMPTY_V1
        status, body = self.bodies.get(request.path_qs, self.bodies.get(request.path, (200, default)))
        if isinstance(body, str):
            return web.Response(status=status, text=body)
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))
