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

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.market import posting
from farmer_mailbox.market.upkeep import UpkeepResult, upkeep
from farmer_mailbox.models import Channel
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.replies import Reply
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.text.models import ParseResult
from farmer_mailbox.validation import id_check_digit
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
_FARMERS = itertools.count(1)   # farmers registered by tests (phones and ID numbers)


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

    async def post_parsed(self, phone: str, result: ParseResult) -> dict[str, list[str]]:
        """Post what a message was understood to say (a reading the parser may not give yet), as the
        conversation does with a parsed message; return what each phone got."""
        core, store = self.runtime.market, self.runtime.services.store
        user = await store.user_by_phone(phone)
        assert user is not None
        async with store.transaction() as tx:
            reply = Reply(f"test:{next(_SERIALS)}", phone, "sms", user)
            await posting.post(core, tx, reply, user, result)
            await core.outbox.enqueue(tx, reply.messages)
        core.book.apply_staged()
        return await self.flush()

    async def farmers(self, count: int, village: str = "杨高村") -> list[str]:
        """Register `count` more farmers in a village (as a liaison would); return their phones."""
        accounts = self.runtime.services.accounts
        operator = await accounts.actor_for(None, Channel.CLI)
        phones = []
        for _ in range(count):
            n = next(_FARMERS)
            first17 = f"330282{19700101 + n % 28:08d}{n % 1000:03d}"
            form = RegistrationForm(name="农户" + "".join("〇一二三四五六七八九"[int(d)] for d in str(n)),
                                    id_number=first17 + id_check_digit(first17), phone=f"1391000{n:04d}",
                                    village=village)
            phones.append((await accounts.register(operator, form)).phone)
        return phones


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
