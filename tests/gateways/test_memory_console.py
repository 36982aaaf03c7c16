"""The in-process gateways: the scriptable memory twin and the development console."""

from __future__ import annotations

import dataclasses
import io
import time

import pytest

from gateways import GatewaySettings, SendError
from gateways.console import ConsoleGateway
from gateways.memory import MemoryGateway
from tests.gateways.contract_cases import SMS


def memory(**options: object) -> MemoryGateway:
    """A memory gateway with these options."""
    return MemoryGateway(GatewaySettings("mem", "memory", options))


async def test_memory_records_sends_and_issues_ids() -> None:
    gateway = memory()
    first = await gateway.send(SMS)
    second = await gateway.send(dataclasses.replace(SMS, outbox_id=43))
    assert (first.external_ids, second.external_ids) == (("mem-1",), ("mem-2",))
    assert gateway.sent == [SMS, dataclasses.replace(SMS, outbox_id=43)]
    assert gateway.by_id["mem-2"].outbox_id == 43
    assert [result.segments for result in gateway.results] == [1, 1]


async def test_memory_fails_the_next_n_sends_then_recovers() -> None:
    gateway = memory()
    gateway.fail_next(2, code="throttled", retryable=True)
    for _ in range(2):
        with pytest.raises(SendError) as caught:
            await gateway.send(SMS)
        assert (caught.value.code, caught.value.retryable) == ("throttled", True)
    assert (await gateway.send(SMS)).external_ids == ("mem-1",)
    assert len(gateway.attempts) == 3 and len(gateway.sent) == 1


async def test_memory_fails_for_one_recipient_until_cleared() -> None:
    gateway = memory()
    gateway.fail_for("13900000000", code="bad_number")
    with pytest.raises(SendError) as caught:
        await gateway.send(dataclasses.replace(SMS, to="13900000000"))
    assert caught.value.retryable is False
    await gateway.send(SMS)  # other recipients are fine
    gateway.clear_failures()
    await gateway.send(dataclasses.replace(SMS, to="13900000000"))
    assert len(gateway.sent) == 2


async def test_memory_latency() -> None:
    gateway = memory(latency=0.05)
    started = time.monotonic()
    await gateway.send(SMS)
    assert time.monotonic() - started >= 0.05


async def test_memory_template_mode_and_segment_limit() -> None:
    gateway = memory(templates=["match_notice"], signature="【农民信箱】", max_segments=2)
    assert gateway.capabilities().templates_only
    with pytest.raises(SendError, match="template_missing"):
        await gateway.send(dataclasses.replace(SMS, template_key="weather_alert"))
    assert (await gateway.send(dataclasses.replace(SMS, text="x" * 128))).segments == 2
    with pytest.raises(SendError) as caught:
        await gateway.send(dataclasses.replace(SMS, text="x" * 129))
    assert (caught.value.code, caught.value.retryable) == ("too_long", False)


async def test_memory_builds_webhooks_it_can_parse() -> None:
    gateway = memory(webhook_token="t0k")
    result = await gateway.send(SMS)
    [receipt] = gateway.parse_receipt(gateway.receipt_request(result.external_ids[0], "delivered", "ok"))
    assert (receipt.external_id, receipt.status, receipt.detail) == ("mem-1", "delivered", "ok")
    [inbound] = gateway.parse_inbound(
        gateway.inbound_request("13800001111", "求购  葡萄苗", recipient="106900")
    )
    assert (inbound.sender, inbound.text, inbound.recipient, inbound.external_id) == (
        "13800001111",
        "求购  葡萄苗",
        "106900",
        "mo-1",
    )


async def test_console_prints_one_masked_line_per_send() -> None:
    stream = io.StringIO()
    gateway = ConsoleGateway(GatewaySettings("dev", "console", {"signature": "【农民信箱】"}), stream=stream)
    result = await gateway.send(dataclasses.replace(SMS, to="13912345678", text="第一行\n第二行"))
    await gateway.send(dataclasses.replace(SMS, text="y" * 70))
    lines = stream.getvalue().splitlines()
    assert lines == [
        '[dev] to 139****5678 (1 seg): "【农民信箱】第一行\\n第二行"',
        f'[dev] to 138****1111 (2 seg): "【农民信箱】{"y" * 70}"',
    ]
    assert result.external_ids == ("console-1",) and result.segments == 1


async def test_console_never_fails_even_on_a_closed_stream() -> None:
    stream = io.StringIO()
    stream.close()
    gateway = ConsoleGateway(GatewaySettings("dev", "console", {}), stream=stream)
    assert (await gateway.send(SMS)).external_ids == ("console-1",)


async def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    await ConsoleGateway(GatewaySettings("dev", "console", {})).send(SMS)
    assert capsys.readouterr().out.startswith("[dev] to 138****1111 (1 seg): ")
