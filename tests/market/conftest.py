"""The marketplace through the real inbound path: a Runtime on a SQLite file, a memory gateway, demo people."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.market.upkeep import UpkeepResult, upkeep
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.runtime import Runtime
from gateways import GatewaySettings, InboundSms
from gateways.memory import MemoryGateway

SIGNATURE = "【农民信箱】"
# demo people (farmer_mailbox/demo.py)
YANG = "13900000011"      # 杨德福, 杨高村 (龙山镇)
CHEN = "13900000012"      # 陈阿毛, 子陵村 (横河镇)
HU = "13900000013"        # 胡秀英, 大山村 (横河镇)
XU = "13900000014"        # 徐国庆, 山下村 (龙山镇)
SHEN = "13900000015"      # 沈桂芳, 山下村 (龙山镇)
MA = "13900000016"        # 马永强, 大山村 (横河镇)
LIAISON = "13900000003"   # 杨丽, liaison for 杨高村 and 山下村
STRANGER = "13712345678"
_SERIALS = itertools.count(1)   # provider message ids, unique across restarts within a test


@dataclass
class Market:
    """A running service without background workers: each step is driven by the test."""

    runtime: Runtime
    gateway: MemoryGateway
    clock: ManualClock
    seen: int = 0
    inbox: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    async def sms(self, phone: str, text: str) -> dict[str, list[str]]:
        """A phone texts the mailbox; everything sendable goes out; return what each phone got."""
        sms = InboundSms(sender=phone, text=text, external_id=f"t{next(_SERIALS)}", received_at=self.clock.now())
        await self.runtime.inbox.receive("mem", "sms", [sms])
        await self.runtime.inbox.drain()
        return await self.flush()

    async def flush(self) -> dict[str, list[str]]:
        """Send what the outbox may send now; return the new texts per phone."""
        await self.runtime.outbox.drain()
        new: dict[str, list[str]] = defaultdict(list)
        for out in self.gateway.sent[self.seen:]:
            new[out.to].append(out.text)
            self.inbox[out.to].append(out.text)
        self.seen = len(self.gateway.sent)
        return new

    async def upkeep(self) -> UpkeepResult:
        """One housekeeping round (expiry, reminders, digest, index sync)."""
        return await upkeep(self.runtime.market)

    def later(self, **delta: float) -> None:
        """Move the clock on."""
        self.clock.advance(timedelta(**delta))

    async def one(self, phone: str, text: str) -> str:
        """Text the mailbox and return the one reply the sender got."""
        got = (await self.sms(phone, text))[phone]
        assert len(got) == 1, got
        return got[0]


MarketFactory = Callable[..., Awaitable[Market]]


@pytest.fixture
async def make_market(db_path: Path, clock: ManualClock, region_tree: RegionTree) -> AsyncIterator[MarketFactory]:
    runtimes: list[Runtime] = []

    async def make(**sections: dict[str, Any]) -> Market:
        raw: dict[str, Any] = {
            "service": {"database": str(db_path), "demo": True},
            "gateways": {"mem": {"type": "memory", "signature": SIGNATURE}},
            "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
        }
        for name, values in sections.items():
            raw[name] = {**raw.get(name, {}), **values}
        config = build_config(raw, env={})
        gateway = MemoryGateway(GatewaySettings("mem", "memory", {"signature": SIGNATURE}), httpx.AsyncClient())
        runtime = await Runtime.start(config, gateways={"mem": gateway}, clock=clock, env={}, workers=False,
                                      tree=region_tree)
        runtimes.append(runtime)
        return Market(runtime, gateway, clock)

    yield make
    for runtime in runtimes:
        await runtime.stop()


@pytest.fixture
async def market(make_market: MarketFactory) -> Market:
    return await make_market()
