"""What sending cost, per local day, channel and purpose: WeChat bills no SMS segments; the CLI shows it."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from farmer_mailbox.cli import main
from farmer_mailbox.cli_outbox import totals_since
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.outbox import Message, Outbox
from farmer_mailbox.services import Services
from gateways import Capabilities, GatewaySettings, OutboundSms, SendResult, WebhookKind, WebhookRequest
from gateways.memory import MemoryGateway
from tests.helpers import TEST_ENV

SH = ZoneInfo("Asia/Shanghai")
LONG = "很长的原因" * 20            # two SMS segments with any signature


class WechatLike:
    """A channel-'wechat' gateway that reports a segment count, as a careless plug-in might."""

    name = "wx"

    def capabilities(self) -> Capabilities:
        return Capabilities(single_segment_chars=2048, multi_segment_chars=2048, max_segments=1, channel="wechat")

    async def send(self, sms: OutboundSms) -> SendResult:
        return SendResult((f"custom:{sms.idempotency_key}",), segments=3)

    def parse_inbound(self, req: WebhookRequest) -> list[object]:
        return []

    def parse_receipt(self, req: WebhookRequest) -> list[object]:
        return []

    def ack(self, kind: WebhookKind) -> tuple[int, str, bytes]:
        return 200, "text/plain", b"success"


async def _send(services: Services, clock: ManualClock) -> None:
    client = httpx.AsyncClient()
    gateways = {"mem": MemoryGateway(GatewaySettings("mem", "memory", {}), client), "wx": WechatLike()}
    config = build_config({"service": {"database": services.store.path}, "gateways": {"mem": {"type": "memory"}},
                           "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]}}, env={})
    box = Outbox(services.store, GatewayRouter.from_config(config, gateways), config, clock, rng=random.Random(1))
    reason = {"reason": LONG}
    async with services.store.transaction() as tx:
        await tx.enqueue(box.rows([Message("w1", "reply", "oABCDEFG", "register_failed", reason, channel="wechat"),
                                   Message("s1", "reply", "13900000011", "register_failed", reason),
                                   Message("s2", "match", "13900000012", "help", {})]))
    await box.drain()


async def test_wechat_messages_bill_no_sms_segments(services: Services, clock: ManualClock) -> None:
    await _send(services, clock)
    wechat, sms = await services.store.outbox_by_key("w1"), await services.store.outbox_by_key("s1")
    assert wechat and (wechat.status, wechat.gateway, wechat.segments) == ("sent", "wx", 0)
    assert sms and sms.segments == 2
    totals = await services.store.segment_totals(clock.now() - timedelta(days=1), clock.now(), SH)
    assert {(t.channel, t.purpose): (t.messages, t.segments) for t in totals} == {
        ("sms", "match"): (1, 1), ("sms", "reply"): (1, 2), ("wechat", "reply"): (1, 0)}


def test_totals_since_counts_today_as_one_day() -> None:
    now = datetime(2026, 6, 3, 1, 30, tzinfo=SH)
    assert totals_since(now, 1, SH) == datetime(2026, 6, 3, tzinfo=SH)
    assert totals_since(now, 7, SH) == datetime(2026, 5, 28, tzinfo=SH)


async def test_the_cli_prints_totals_per_day_channel_and_purpose(
        services: Services, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # yesterday noon: inside the CLI's two days (it reads the real clock) and outside quiet hours,
    # so the match message is sent whatever time the suite runs (an hour ago was 21:25 once: held)
    clock.set(datetime.combine(datetime.now(SH).date() - timedelta(days=1), time(12), SH))
    await _send(services, clock)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", services.store.path)
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    assert await _run_cli(["outbox", "totals", "--days", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(x["channel"], x["purpose"], x["messages"], x["segments"]) for x in lines} == {
        ("sms", "match", 1, 1), ("sms", "reply", 1, 2), ("wechat", "reply", 1, 0)}
    assert {x["yuan"] for x in lines} == {0.05, 0.1, 0.0}
    assert await _run_cli(["outbox", "totals"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["day", "channel", "purpose", "messages", "segments", "yuan"]
    assert table[-1].split() == ["total", "3", "3", "0.15"]


async def _run_cli(argv: list[str]) -> int:
    """main() runs its own event loop: run it in a thread, away from the test's loop."""
    return await asyncio.to_thread(main, argv)
