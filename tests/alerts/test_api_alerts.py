"""The /api/alerts handlers over HTTP, on a minimal app whose middleware sets the acting staff user.

The full app (farmer_mailbox.app) cannot be imported until the text-understanding branch lands;
these tests run the same handlers and routes with `request["actor"]` set the way `staff_auth`
sets it, and `app[ALERTS]` the AlertSystem the Runtime builds.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox.alerts.system import AlertSystem
from farmer_mailbox.scoping import Actor
from farmer_mailbox.web import api_alerts
from farmer_mailbox.web.api import ACTOR_KEY
from tests.alerts.conftest import SHANXIA, YANGGAO, ZILING, Rig

PEST = {"kind": "pest", "regions": "龙山镇,横河镇", "crops": ["水稻"],
        "params": {"crop": "水稻", "pest": "稻飞虱", "stage": "已达防治高峰", "when": "7月8日",
                   "advice": "选用吡蚜酮等药剂对准稻丛基部喷雾"}}


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    rig: Rig
    system: AlertSystem
    actors: dict[str, Actor]

    async def call(self, method: str, path: str, who: str = "officer", **kw: Any) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers={"X-As": who}, **kw)
        return response.status, await response.json()


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[Api]:
    farmer = await rig.user(SHANXIA)
    actors = {"officer": rig.officer, "admin": rig.admin,
              "other": await rig.staff("officer", "440802"),
              "farmer": await rig.services.accounts.actor_for(farmer, rig.officer.channel)}

    @web.middleware
    async def as_actor(request: web.Request,
                       handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        with warnings.catch_warnings():   # staff_auth stores the actor under the same plain-string key
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            request[ACTOR_KEY] = actors[request.headers["X-As"]]
        return await handler(request)

    async with httpx.AsyncClient() as http:
        system = AlertSystem.build(rig.services, http, router=rig.outbox.router, wake=rig.outbox.wake, env={})
        system.service.clock = rig.clock
        app = web.Application(middlewares=[as_actor])
        app[api_alerts.ALERTS] = system
        api_alerts.add_routes(app)
        async with TestClient(TestServer(app)) as client:
            yield Api(client, rig, system, actors)


async def test_preview_then_create_then_monitor(api: Api) -> None:
    rice = [await api.rig.user(v, ["水稻"]) for v in (YANGGAO, ZILING)]
    status, preview = await api.call("POST", "/api/alerts/preview", json=PEST)
    assert status == 200 and preview["recipients"] == 2 and len(preview["by_town"]) == 2
    status, created = await api.call("POST", "/api/alerts", json=PEST)
    assert status == 201 and created["alert"]["status"] == "scheduled"
    alert_id = created["alert"]["id"]
    await api.rig.deliver()
    status, shown = await api.call("GET", f"/api/alerts/{alert_id}")
    assert status == 200 and shown["status"] == "sent" and shown["progress"]["sent"] == 2
    status, progress = await api.call("GET", f"/api/alerts/{alert_id}/progress")
    assert (progress["sent"], progress["failed"], progress["waiting"]) == (2, 0, 0)
    status, listed = await api.call("GET", "/api/alerts?status=sent")
    assert [a["id"] for a in listed["alerts"]] == [alert_id]
    assert sorted(api.rig.received()) == sorted(u.phone for u in rice)


async def test_scope_state_and_input_errors_have_their_status(api: Api) -> None:
    await api.rig.user(YANGGAO, ["水稻"])
    status, body = await api.call("POST", "/api/alerts", json={**PEST, "regions": "余姚市"})
    assert status == 403 and body["error"]["code"] == "scope.county"
    status, body = await api.call("POST", "/api/alerts", who="farmer", json=PEST)
    assert status == 403 and body["error"]["code"] == "scope.role"
    status, body = await api.call("POST", "/api/alerts", json={**PEST, "kind": "rumour"})
    assert status == 400 and body["error"]["code"] == "alert.kind"
    status, body = await api.call("POST", "/api/alerts", json={**PEST, "send_at": "25:99"})
    assert status == 400 and body["error"]["code"] == "alert.time"
    status, created = await api.call("POST", "/api/alerts", json={**PEST, "send_at": "明天07:00"})
    alert_id = created["alert"]["id"]
    status, body = await api.call("GET", f"/api/alerts/{alert_id}", who="other")
    assert status == 404 and body["error"]["code"] == "alert.not_found"
    status, body = await api.call("POST", f"/api/alerts/{alert_id}/cancel", json={"reason": "rain"})
    assert status == 200 and body["status"] == "cancelled"
    status, body = await api.call("POST", f"/api/alerts/{alert_id}/cancel")
    assert status == 409 and body["error"]["code"] == "alert.state"
    status, body = await api.call("GET", "/api/alerts?status=bogus")
    assert status == 400
    response = await api.client.post("/api/alerts", data=b"not json", headers={"X-As": "officer"})
    assert response.status == 400


async def test_over_budget_is_202_until_an_admin_confirms(api: Api) -> None:
    await api.rig.user(YANGGAO, ["水稻"])
    api.system.service.budgets.limit = 0.01             # [alerts] monthly_budget_yuan = 0.01
    status, created = await api.call("POST", "/api/alerts", json=PEST)
    assert status == 202 and created["alert"]["status"] == "held" and created["preview"]["needs_confirmation"]
    alert_id = created["alert"]["id"]
    store = api.rig.services.store
    assert await store.alerts_awaiting_staff() == {"held": 1, "drafts": 0}   # what /healthz shows operators
    status, body = await api.call("POST", f"/api/alerts/{alert_id}/confirm")
    assert status == 403
    status, body = await api.call("POST", f"/api/alerts/{alert_id}/confirm", who="admin")
    assert status == 200 and body["status"] == "scheduled"
    assert await store.alerts_awaiting_staff() == {"held": 0, "drafts": 0}
    # an admin's place names resolve near their own village; 龙山镇 is in many counties, so codes here
    as_codes = {**PEST, "regions": ["330282123", "330282114"], "confirm_budget": True}
    status, created = await api.call("POST", "/api/alerts", who="admin", json=as_codes)
    assert status == 201 and created["alert"]["confirmed_by"] == api.actors["admin"].user_id


async def test_drafts_are_approved_with_edits_or_discarded(api: Api) -> None:
    await api.rig.user(YANGGAO, ["水稻"])
    api.rig.clock.set(datetime(2026, 7, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert api.system.calendar is not None
    await api.system.calendar.draft_due()
    store = api.rig.services.store
    planthopper, leafroller = [await store.alert_by_source(f"pest:{rule}:330282:2026")
                               for rule in ("rice-planthopper-yangtze", "rice-leafroller")]
    assert planthopper is not None and leafroller is not None
    first, second = planthopper.id, leafroller.id
    status, body = await api.call("POST", f"/api/alerts/{first}/approve",
                                  json={"send_at": "07:00", "regions": ["龙山镇"], "params": {"stage": "已达高峰"}})
    assert status == 200 and body["status"] == "scheduled" and body["params"]["stage"] == "已达高峰"
    assert body["send_at"] == "2026-07-16T07:00+08:00" and body["regions"][0]["code"] == "330282123000"
    status, body = await api.call("POST", f"/api/alerts/{second}/discard")
    assert status == 200 and body["status"] == "discarded"
    status, body = await api.call("POST", f"/api/alerts/{second}/approve", json={})
    assert status == 409
