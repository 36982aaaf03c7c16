"""Provider webhooks through the app: a bad signature is 403, a malformed body 400, and neither is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

from farmer_mailbox.web.common import MAX_WEBHOOK_BYTES
from gateways.signing import twilio_signature
from tests.web.rig import PUBLIC_URL, TWILIO_TOKEN, AppClient, runtime_of

PAYLOADS = Path(__file__).resolve().parents[1] / "gateways" / "payloads" / "twilio"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
INBOUND = "/hooks/twilio/inbound"


def signed(body: bytes, path: str = INBOUND) -> dict[str, str]:
    """Headers of the request Twilio would send to our public URL."""
    params = parse_qs(body.decode(), keep_blank_values=True)      # Twilio signs empty fields too
    return FORM | {"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, PUBLIC_URL + path, params)}


async def recorded(client: AppClient) -> tuple[int, int]:
    """(entries in the message record, inbound messages waiting to be processed)."""
    store = runtime_of(client).services.store
    return len(await store.record_tail(1000)), await store.count_pending_inbound()


async def test_a_signed_inbound_message_is_committed_before_the_answer(client: AppClient) -> None:
    body = (PAYLOADS / "inbound.form").read_bytes()
    response = await client.post(INBOUND, data=body, headers=signed(body))
    assert response.status == 200 and b"<Response></Response>" in await response.read()
    [entry] = await runtime_of(client).services.store.record_tail(1)
    # Twilio's E.164 sender is stored as the 11 digits accounts are keyed by
    assert (entry.kind, entry.gateway, entry.address, entry.text) == ("inbound", "twilio", "13800001111",
                                                                      "求购  葡萄苗")
    assert await recorded(client) == (1, 1)
    again = await client.post(INBOUND, data=body, headers=signed(body))       # Twilio retries: no second copy
    assert again.status == 200 and await recorded(client) == (1, 1)


async def test_a_bad_signature_is_403_and_nothing_is_recorded(client: AppClient) -> None:
    body = (PAYLOADS / "inbound.form").read_bytes()
    forged = body.replace(b"From=%2B8613800001111", b"From=%2B8613900000011")   # signed for another sender
    cases = [(signed(body), "bad signature"), (FORM | {"X-Twilio-Signature": "bm9wZQ=="}, "bad signature"),
             (FORM, "missing X-Twilio-Signature")]
    for headers, reason in cases:
        response = await client.post(INBOUND, data=forged, headers=headers)
        assert response.status == 403 and reason in await response.text()
    assert await recorded(client) == (0, 0)


async def test_a_receipt_with_a_bad_signature_is_403(client: AppClient) -> None:
    body = (PAYLOADS / "status_delivered.form").read_bytes()
    response = await client.post("/hooks/twilio/receipt", data=body, headers=signed(body, INBOUND))
    assert response.status == 403 and await recorded(client) == (0, 0)


async def test_a_malformed_payload_is_400_and_nothing_is_recorded(client: AppClient) -> None:
    body = (PAYLOADS / "inbound_missing_from.form").read_bytes()               # correctly signed, no From
    response = await client.post(INBOUND, data=body, headers=signed(body))
    assert response.status == 400 and "missing From" in await response.text()
    assert await recorded(client) == (0, 0)


async def test_an_unknown_gateway_is_404(client: AppClient) -> None:
    response = await client.post("/hooks/nosuch/inbound", data=b"x=1", headers=FORM)
    assert response.status == 404 and await recorded(client) == (0, 0)


async def test_a_message_with_half_an_emoji_is_stored_mended_not_refused(client: AppClient) -> None:
    # valid JSON, no text: before, storing it raised and the provider got a 500 (and retried for ever)
    body = b'[{"id": "cut-1", "from": "13800001111", "text": "\\u5356\\u7389\\u7c73\\ud83d"}]'
    response = await client.post("/hooks/mem/inbound", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200
    [entry] = await runtime_of(client).services.store.record_tail(1)
    assert entry.text == "卖玉米\ufffd" and await recorded(client) == (1, 1)
    receipt = b'[{"id": "mem-\\udc00", "status": "delivered", "detail": "\\ud800"}]'
    answer = await client.post("/hooks/mem/receipt", data=receipt, headers={"Content-Type": "application/json"})
    assert answer.status == 200


async def test_a_message_claiming_the_year_999_is_refused_and_holds_nobody_up(client: AppClient) -> None:
    # it was stored as "999-01-01...", which reads back as nothing: every inbox round failed on it for ever
    json_body = {"Content-Type": "application/json"}
    old = b'[{"id": "old-1", "from": "13800001111", "text": "BZ", "received_at": "0999-01-01T00:00:00+00:00"}]'
    new = b'[{"id": "new-1", "from": "13800002222", "text": "BZ"}]'
    refused = await client.post("/hooks/mem/inbound", data=old, headers=json_body)
    assert refused.status == 400 and "out of range" in await refused.text()
    assert (await client.post("/hooks/mem/inbound", data=new, headers=json_body)).status == 200
    assert await runtime_of(client).inbox.drain() == 1
    assert await runtime_of(client).services.store.count_pending_inbound() == 0


async def test_a_body_that_arrives_in_pieces_is_read_whole(client: AppClient) -> None:
    # one read returns what has arrived: the webhook read the first piece only and refused it as bad JSON
    body = b'[{"id": "slow-1", "from": "13800001111", "text": "\\u5356\\u7389\\u7c73"}]'

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 20):
            yield body[start:start + 20]
            await asyncio.sleep(0.02)

    response = await client.post("/hooks/mem/inbound", data=pieces(), headers={"Content-Type": "application/json"})
    assert response.status == 200 and await recorded(client) == (1, 1)


async def test_a_body_that_is_not_what_its_encoding_says_is_400(client: AppClient) -> None:
    garbled = await client.post("/hooks/mem/inbound", data=b"not gzip at all",
                                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert garbled.status == 400 and "Content-Encoding" in await garbled.text()   # was 500
    assert await recorded(client) == (0, 0)


async def test_a_body_past_the_limit_is_413(client: AppClient) -> None:
    huge = await client.post("/hooks/mem/inbound", data=b" " * (MAX_WEBHOOK_BYTES + 1),
                             headers={"Content-Type": "application/json"})
    assert huge.status == 413 and await recorded(client) == (0, 0)
