"""An outbox over a real SQLite file with scriptable memory gateways."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.outbox import Message, Outbox
from farmer_mailbox.services import Services
from gateways import GatewaySettings
from gateways.memory import MemoryGateway


@dataclass
class Rig:
    """An outbox wired to two memory gateways (primary, backup)."""

    services: Services
    outbox: Outbox
    primary: MemoryGateway
    backup: MemoryGateway
    clock: ManualClock

    def msg(self, key: str, to: str = "13900000011", **kw: Any) -> Message:
        fields: dict[str, Any] = {"purpose": "reply", "template_key": "help", "params": {}} | kw
        return Message(idem_key=key, address=to, **fields)


@pytest.fixture
def make_rig(services: Services, clock: ManualClock) -> Callable[..., Rig]:
    def make(primary: dict[str, Any] | None = None, **outbox: Any) -> Rig:
        client = httpx.AsyncClient()
        gws = {name: MemoryGateway(GatewaySettings(name, "memory", opts), client)
               for name, opts in (("primary", primary or {}), ("backup", {}))}
        config = build_config({
            "service": {"database": services.store.path},
            "gateways": {"primary": {"type": "memory"}, "backup": {"type": "memory"}},
            "routes": {"replies": ["primary", "backup"], "matches": ["primary"], "alerts": ["primary"]},
            "outbox": {"backoff_base_seconds": 10.0, **outbox},
        }, env={})
        router = GatewayRouter.from_config(config, gws)
        box = Outbox(services.store, router, config, clock, rng=random.Random(7))
        return Rig(services, box, gws["primary"], gws["backup"], clock)

    return make


@pytest.fixture
async def rig(make_rig: Callable[..., Rig]) -> AsyncIterator[Rig]:
    yield make_rig()
