"""The contract every gateway passes, each against its own fake provider (courier style)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from gateways import (
    BUILTIN_GATEWAYS,
    Gateway,
    GatewaySettings,
    SendError,
    WebhookError,
    find_factory,
    load_gateway,
)
from tests.gateways.contract_cases import (
    CASES,
    Built,
    Case,
    PayloadCase,
    payload_cases,
    running,
    webhook_for,
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


@pytest.fixture(params=CASES, ids=[case.type for case in CASES])
async def built(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> AsyncIterator[Built]:
    async with running(request.param, client) as item:
        yield item


def test_every_builtin_type_has_a_case() -> None:
    assert {case.type for case in CASES} == set(BUILTIN_GATEWAYS)


async def test_is_a_gateway(built: Built) -> None:
    assert isinstance(built.gateway, Gateway)
    assert built.gateway.name == f"{built.case.type}-test"
    assert find_factory(built.case.type) is type(built.gateway)


async def test_send_returns_provider_ids(built: Built) -> None:
    result = await built.gateway.send(built.case.sms())
    assert result.external_ids and all(result.external_ids)
    assert result.segments is None or result.segments >= 1
    if built.fake:
        assert built.fake.violations == []
        assert len(built.fake.requests) == 1


async def test_two_sends_get_distinct_ids(built: Built) -> None:
    if built.case.type == "kannel":
        pytest.skip("kannel has no provider ids: the outbox id is the external id")
    first = await built.gateway.send(built.case.sms())
    # Another outbox row: its own id and its own idempotency key (the outbox's UNIQUE idem_key).
    second = await built.gateway.send(built.case.sms(outbox_id=43, idempotency_key="match:43"))
    assert first.external_ids != second.external_ids


async def test_provider_refusal_is_not_retryable(built: Built) -> None:
    if built.case.type == "console":
        pytest.skip("console never fails")
    with pytest.raises(SendError) as caught:
        await built.gateway.send(built.case.sms(to=built.case.bad_recipient))
    assert caught.value.retryable is False
    assert caught.value.code


async def test_throttling_is_retryable(built: Built) -> None:
    if built.fake is None or built.case.retry_reply is None:
        if built.case.type == "memory":
            built.gateway.fail_next(code="throttled", retryable=True)  # type: ignore[attr-defined]
        else:
            pytest.skip("console never fails")
    else:
        built.fake.script.append(built.case.retry_reply())
    with pytest.raises(SendError) as caught:
        await built.gateway.send(built.case.sms())
    assert caught.value.retryable is True


@pytest.mark.parametrize("case", [case for case in CASES if case.needs_http], ids=lambda case: case.type)
async def test_timeout_is_retryable(case: Case, client: httpx.AsyncClient) -> None:
    async with running(case, client, **{case.timeout_option: 0.1}) as item:
        assert item.fake is not None
        item.fake.delay = 0.5
        with pytest.raises(SendError) as caught:
            await item.gateway.send(case.sms())
        assert (caught.value.code, caught.value.retryable) == (case.timeout_code, True)


@pytest.mark.parametrize("case", [case for case in CASES if case.needs_http], ids=lambda case: case.type)
async def test_connection_refused_is_retryable(case: Case, client: httpx.AsyncClient) -> None:
    fake = case.fake() if case.fake else None
    assert fake is not None
    await fake.start()
    dead_base = fake.base_url
    await fake.stop()  # nothing listens there any more
    options = case.options(dead_base)
    gateway = load_gateway(GatewaySettings("dead", case.type, options), client)
    with pytest.raises(SendError) as caught:
        await gateway.send(case.sms())
    assert (caught.value.code, caught.value.retryable) == (case.refused_code, True)


async def test_ack_is_what_the_provider_expects(built: Built) -> None:
    for kind in ("inbound", "receipt"):
        assert built.gateway.ack(kind) == built.case.acks[kind]  # type: ignore[arg-type]


async def test_capabilities_are_honest(built: Built) -> None:
    caps = built.gateway.capabilities()
    templates_only = built.case.type in ("aliyun", "tencent")
    assert caps.templates_only is templates_only
    if templates_only:
        assert caps.templates is not None and built.case.sms().template_key in caps.templates
        assert caps.signature == "【农民信箱】"
    assert caps.single_segment_chars >= caps.multi_segment_chars > 0
    assert caps.max_segments >= 1


# --- recorded payloads -------------------------------------------------------------------------

PAYLOAD_CASES = payload_cases()


def test_every_gateway_has_recorded_payloads_with_malformed_ones() -> None:
    by_type: dict[str, set[object]] = {}
    for case in PAYLOAD_CASES:
        by_type.setdefault(case.gateway_type, set()).add(case.row.get("status", 200))
    assert set(by_type) == set(BUILTIN_GATEWAYS)
    for gateway_type, statuses in by_type.items():
        assert {200, 400, 403} <= statuses, gateway_type


@pytest.mark.parametrize("payload", PAYLOAD_CASES, ids=[case.id for case in PAYLOAD_CASES])
async def test_recorded_payload(payload: PayloadCase, client: httpx.AsyncClient) -> None:
    case = next(case for case in CASES if case.type == payload.gateway_type)
    async with running(case, client, **payload.row.get("options", {})) as item:
        parse = item.gateway.parse_inbound if payload.row["kind"] == "inbound" else item.gateway.parse_receipt
        request = webhook_for(payload)
        if "status" in payload.row:
            with pytest.raises(WebhookError) as caught:
                parse(request)
            assert (caught.value.status, caught.value.reason) == (
                payload.row["status"],
                payload.row["reason"],
            )
            return
        parsed = parse(request)
        assert [
            _subset(item, expected) for item, expected in zip(parsed, payload.row["expect"], strict=True)
        ] == (payload.row["expect"])


def _subset(item: object, expected: dict[str, object]) -> dict[str, object]:
    """The fields of a parsed message that the row names, times as ISO 8601 UTC."""
    out: dict[str, object] = {}
    for key in expected:
        value = getattr(item, key)
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out
