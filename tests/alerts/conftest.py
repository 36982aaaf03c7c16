"""Alerts over a real SQLite file: an outbox to a memory gateway, staff actors, farmers by village."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.alerts.fanout import Fanout
from farmer_mailbox.alerts.model import AlertDraft, Kind, Severity
from farmer_mailbox.alerts.service import AlertService
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import Config, build_config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.models import Channel, User
from farmer_mailbox.outbox import Outbox
from farmer_mailbox.scoping import Actor
from farmer_mailbox.services import Services
from gateways import GatewaySettings
from gateways.memory import MemoryGateway
from tests.helpers import valid_id

SIGNATURE = "【农民信箱】"
CIXI = "330282"
LONGSHAN, HENGHE, GUANHAIWEI, ZHOUXIANG = "330282123", "330282114", "330282107", "330282121"
YANGGAO, SHANXIA = "330282123222", "330282123201"        # 龙山镇
ZILING, DASHAN = "330282114201", "330282114202"          # 横河镇
WEIDONG = "330282107203"                                 # 观海卫镇 卫东村
ZHOUXIANG_VILLAGE = "330282121201"                       # 周巷镇
ZHANJIANG_VILLAGE = "440802001002"                       # 湛江市, another province


def alerts_config(path: str, **sections: dict[str, Any]) -> Config:
    """A config on `path` with one memory gateway billing the mainland signature."""
    raw: dict[str, Any] = {
        "service": {"database": path},
        "gateways": {"mem": {"type": "memory", "signature": SIGNATURE}},
        "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return build_config(raw, env={})


def pest_draft(regions: Iterable[str] = (LONGSHAN,), crops: Iterable[str] = ("水稻",), **kw: Any) -> AlertDraft:
    """The issue's planthopper alert: rice farmers in some towns."""
    params = {"crop": "水稻", "pest": "稻飞虱", "stage": "已达防治高峰", "when": "7月8日",
              "advice": "选用吡蚜酮、烯啶虫胺等药剂对准稻丛基部喷雾,田间保持浅水层"}
    fields: dict[str, Any] = {"kind": Kind.PEST, "template_key": "pest_alert", "params": params,
                              "regions": tuple(regions), "crops": tuple(crops)} | kw
    return AlertDraft(**fields)


def weather_draft(regions: Iterable[str] = (CIXI,), severity: Severity = Severity.RED, **kw: Any) -> AlertDraft:
    """A rainstorm warning for whole counties."""
    params = {"sender": "慈溪市气象台", "event": "暴雨", "colour": severity.zh,
              "detail": "预计未来3小时我市降雨量将达100毫米以上,请立即转移低洼地带人员,加固大棚,疏通沟渠。"}
    fields: dict[str, Any] = {"kind": Kind.WEATHER, "template_key": "weather_warning", "params": params,
                              "regions": tuple(regions), "severity": severity} | kw
    return AlertDraft(**fields)


@dataclass
class Rig:
    """Alert service, fan-out and outbox wired to one memory gateway, with staff to act as."""

    services: Services
    config: Config
    outbox: Outbox
    gateway: MemoryGateway
    alerts: AlertService
    fanout: Fanout
    clock: ManualClock
    operator: Actor
    officer: Actor = field(init=False)
    admin: Actor = field(init=False)
    _phones: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _serials: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    async def user(self, village: str, interests: Iterable[str] = (), role: str = "farmer",
                   county: str = "") -> User:
        """Register someone in a village (as the operator); return the user."""
        phone = f"1390000{next(self._phones):04d}"
        form = RegistrationForm(name="张三丰", id_number=valid_id(serial=next(self._serials)), phone=phone,
                                village=village, role=role, interests=tuple(interests), county=county)
        return await self.services.accounts.register(self.operator, form)

    async def staff(self, role: str, county: str = "") -> Actor:
        """A staff actor (officer of a county, or admin) acting through the API; lives far from 慈溪."""
        user = await self.user(ZHANJIANG_VILLAGE, role=role, county=county)
        return await self.services.accounts.actor_for(user, Channel.API)

    async def deliver(self) -> None:
        """Run the fan-out job, then send everything the outbox may send now."""
        await self.fanout.tick()
        await self.outbox.drain()
        await self.fanout.finish()

    def received(self) -> list[str]:
        """Phones the gateway sent to, in order."""
        return [sms.to for sms in self.gateway.sent]


async def make_rig(services: Services, clock: ManualClock, sections: dict[str, dict[str, Any]] | None = None, *,
                   with_staff: bool = True) -> Rig:
    """A rig over `services` with config sections overridden (and staff registered, unless told not to)."""
    config = alerts_config(services.store.path, **(sections or {}))
    gateway = MemoryGateway(GatewaySettings("mem", "memory", {"signature": SIGNATURE}), httpx.AsyncClient())
    router = GatewayRouter.from_config(config, {"mem": gateway})
    outbox = Outbox(services.store, router, config, clock, rng=random.Random(7))
    alerts = AlertService(services.store, services.tree, config, clock, signature=SIGNATURE)
    fanout = Fanout(services.store, clock, chunk=config.alerts.fanout_chunk, wake=outbox.wake)
    operator = await services.accounts.actor_for(None, Channel.CLI)
    rig = Rig(services, config, outbox, gateway, alerts, fanout, clock, operator)
    if with_staff:
        rig.officer = await rig.staff("officer", CIXI)
        rig.admin = await rig.staff("admin")
    return rig


@pytest.fixture
async def rig(services: Services, clock: ManualClock) -> AsyncIterator[Rig]:
    yield await make_rig(services, clock)


@pytest.fixture
def rig_with(services: Services, clock: ManualClock) -> Callable[..., Any]:
    """Build a rig with config overrides: `await rig_with(alerts={"monthly_budget_yuan": 1})`."""

    async def build(**sections: dict[str, Any]) -> Rig:
        return await make_rig(services, clock, sections)

    return build
