"""The `kannel` gateway against a real bearerbox + smsbox + fakesmsc on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from gateways import GatewaySettings, OutboundSms, SendError
from gateways.kannel import KannelGateway, get_url_template
from tests.support.callbacks import CallbackServer
from tests.support.kannel import KannelStack, running_kannel

pytestmark = pytest.mark.kannel

TOKEN = "kannel-hook-token"
SMS = OutboundSms(7, "13912345678", "match_notice", {}, "【农民信箱】求购葡萄苗已登记 编号12", "k7")


@dataclass
class Stack:
    """A running Kannel, the callback server it calls and our gateway pointed at both."""

    kannel: KannelStack
    callbacks: CallbackServer
    gateway: KannelGateway
    client: httpx.AsyncClient
    options: dict[str, object]


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with httpx.AsyncClient() as client, CallbackServer() as callbacks:
        get_url = get_url_template(callbacks.url("/kannel/mo"), TOKEN)
        async with running_kannel(get_url) as kannel:
            options = {
                "sendsms_url": kannel.sendsms_url,
                "username": kannel.username,
                "password": kannel.password,
                "dlr_url": callbacks.url("/kannel/dlr"),
                "webhook_token": TOKEN,
                "max_messages": kannel.max_messages,
            }
            gateway = KannelGateway(GatewaySettings("kannel", "kannel", options), client)
            # The callback server answers 200 with an empty body, which is KannelGateway.ack().
            assert gateway.ack("inbound") == (200, "text/plain; charset=utf-8", b"")
            yield Stack(kannel, callbacks, gateway, client, options)


async def test_chinese_mt_arrives_as_exact_ucs2(stack: Stack) -> None:
    result = await stack.gateway.send(SMS)
    [mt] = await stack.kannel.wait_mt(1)
    assert result.external_ids == ("7",) and result.segments == 1
    assert (mt.kind, mt.receiver, mt.sender) == ("ucs-2", SMS.to, stack.kannel.global_sender)
    assert mt.text == SMS.text


async def test_long_mt_goes_in_three_parts_and_reassembles(stack: Stack) -> None:
    text = ("农民信箱求购葡萄苗" * 17)[:150]
    result = await stack.gateway.send(dataclasses.replace(SMS, text=text))
    [mt] = await stack.kannel.wait_mt(1)
    assert result.segments == 3
    assert mt.parts == 3
    assert [len(udh) for udh in mt.udh] == [6, 6, 6]
    assert mt.text == text


@pytest.mark.parametrize(
    "text",
    ["求购  葡萄苗 10斤", " 出售 苹果 😀🍇  200斤  ", "卖" * 70],
    ids=["double-spaces", "emoji-and-edges", "full-70"],
)
async def test_mo_reaches_parse_inbound_exactly(stack: Stack, text: str) -> None:
    await stack.kannel.send_mo("13900001111", text)
    request = await stack.callbacks.wait_for("/kannel/mo")
    [message] = stack.gateway.parse_inbound(request)
    assert (message.sender, message.text, message.recipient) == (
        "13900001111",
        text,
        stack.kannel.global_sender,
    )
    assert message.external_id  # Kannel's %I UUID
    assert request.header("User-Agent").startswith("Kannel/")


async def test_dlrs_map_to_sent_and_delivered_for_our_outbox(stack: Stack) -> None:
    await stack.gateway.send(dataclasses.replace(SMS, outbox_id=4242))
    await stack.kannel.wait_mt(1)
    first = await stack.callbacks.wait_for("/kannel/dlr")
    second = await stack.callbacks.wait_for("/kannel/dlr")
    receipts = [receipt for req in (first, second) for receipt in stack.gateway.parse_receipt(req)]
    assert {receipt.external_id for receipt in receipts} == {"4242"}
    assert sorted(receipt.status for receipt in receipts) == [
        "delivered",
        "sent",
    ]  # types 1 and 8, either order


async def test_mo_and_mt_interleave(stack: Stack) -> None:
    sends = [stack.gateway.send(dataclasses.replace(SMS, outbox_id=i, text=f"第{i}条")) for i in range(5)]
    await asyncio.gather(*sends)
    await stack.kannel.send_mo("13900002222", "收到")
    mts = await stack.kannel.wait_mt(5)
    assert sorted(mt.text for mt in mts) == sorted(f"第{i}条" for i in range(5))
    [message] = stack.gateway.parse_inbound(await stack.callbacks.wait_for("/kannel/mo"))
    assert message.text == "收到"


async def test_wrong_password_is_not_retryable(stack: Stack) -> None:
    settings = GatewaySettings("kannel", "kannel", {**stack.options, "password": "wrong"})
    with pytest.raises(SendError) as caught:
        await KannelGateway(settings, stack.client).send(SMS)
    assert (caught.value.code, caught.value.retryable) == ("forbidden", False)
    assert caught.value.message == "Authorization failed for sendsms"
