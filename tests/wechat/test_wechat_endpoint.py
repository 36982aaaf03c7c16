"""/wechat through the whole app: URL verification, documented message XML (plain and the public
encrypted vector), refusals that record nothing, and WeChat's retries processed once."""

from __future__ import annotations

import pytest

from farmer_mailbox import wording
from gateways import WebhookRequest
from gateways.wechat_crypto import sha1_signature
from gateways.wechat_xml import parse_fields
from tests.wechat.conftest import Start
from tests.wechat.service_rig import ACCOUNT, SUCCESS, TOKEN, WechatRig
from tests.wechat.vectors import AES, fixture

OPENID = "o_zhang_san_0000000000000000"
UNBOUND = wording.render("wechat_unbound", {})


def signed(body: bytes, token: str = TOKEN, **extra: str) -> WebhookRequest:
    """A plain-mode push of a raw body, signed as WeChat signs it (the URL, not the body)."""
    query = {"timestamp": "1714037059", "nonce": "486452656", **extra}
    query.setdefault("signature", sha1_signature(token, query["timestamp"], query["nonce"]))
    return WebhookRequest("POST", "/wechat", query, {}, body)


async def counts(rig: WechatRig) -> tuple[int, int, int]:
    """Rows in inbound, message_log and outbox."""
    return (await rig.scalar("SELECT COUNT(*) FROM inbound"), await rig.scalar("SELECT COUNT(*) FROM message_log"),
            await rig.scalar("SELECT COUNT(*) FROM outbox"))


# -- URL verification -------------------------------------------------------------------------


async def test_url_verification_echoes_echostr_only_when_signed(start: Start) -> None:
    async with start() as rig:
        good = rig.pusher.verification("4375120948345356249")
        resp = await rig.client.get("/wechat", params=dict(good.query))
        assert (resp.status, await resp.text()) == (200, "4375120948345356249")
        forged = {**good.query, "signature": "0" * 40}
        assert (await rig.client.get("/wechat", params=forged)).status == 403
        no_echo = {k: v for k, v in good.query.items() if k != "echostr"}
        assert (await rig.client.get("/wechat", params=no_echo)).status == 400


# -- documented message XML --------------------------------------------------------------------


async def test_the_documented_text_message_gets_a_passive_reply(start: Start) -> None:
    async with start() as rig:
        answer = await rig.post(signed(fixture("text.xml")))
        assert (answer.status, answer.text) == (200, UNBOUND)
        reply = parse_fields(answer.raw)
        assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("fromUser", ACCOUNT, "text")
        assert await rig.scalar("SELECT text || '|' || external_id || '|' || channel FROM inbound") == \
            "this is a test|1234567890123456|wechat"
        assert rig.api.texts == []          # answered passively, nothing through the API


async def test_the_public_encrypted_vector_is_decrypted_and_answered_encrypted(start: Start) -> None:
    vector = AES["decrypt"]
    keys = {"token": AES["token"], "appid": AES["appid"], "encoding_aes_key": AES["encoding_aes_key"]}
    async with start(gateway=keys) as rig:
        query = {"timestamp": vector["timestamp"], "nonce": vector["nonce"], "encrypt_type": "aes",
                 "msg_signature": vector["msg_signature"]}
        answer = await rig.post(WebhookRequest("POST", "/wechat", query, {}, fixture(vector["fixture"])))
        assert answer.status == 200 and b"<Encrypt>" in answer.raw and b"<MsgSignature>" in answer.raw
        assert answer.text == UNBOUND       # decrypted with the account's key
        row = await rig.scalar("SELECT sender || '|' || text || '|' || external_id FROM inbound")
        assert row == f"{vector['FromUserName']}|{vector['Content']}|{vector['MsgId']}"


async def test_safe_mode_messages_round_trip_and_plain_ones_are_refused(start: Start) -> None:
    async with start(safe_mode=True) as rig:
        answer = await rig.text(OPENID, "你好")
        assert (answer.status, answer.text) == (200, UNBOUND)
        before = await counts(rig)
        assert (await rig.post(signed(fixture("text.xml")))).status == 403    # safe mode: plain not accepted
        assert await counts(rig) == before


# -- refusals record nothing -------------------------------------------------------------------


@pytest.mark.parametrize(("request_of", "status"), [
    (lambda: signed(fixture("text.xml"), token="not-our-token"), 403),
    (lambda: signed(fixture("text.xml"), signature="f" * 40), 403),
    (lambda: signed(fixture("hostile/truncated.xml")), 400),
    (lambda: signed(fixture("hostile/billion_laughs.xml")), 400),
    (lambda: signed(fixture("hostile/external_entity.xml")), 400),
    (lambda: signed(b"<xml><Content>" + b"x" * 70_000 + b"</Content></xml>"), 400),
    (lambda: signed(b""), 400),
], ids=["wrong-token", "forged-signature", "truncated", "billion-laughs", "xxe", "oversized", "empty"])
async def test_refused_pushes_record_nothing(start: Start, request_of: object, status: int) -> None:
    async with start() as rig:
        assert callable(request_of)
        answer = await rig.post(request_of())
        assert answer.status == status
        assert await counts(rig) == (0, 0, 0)


async def test_a_bad_msg_signature_in_safe_mode_is_refused(start: Start) -> None:
    async with start(safe_mode=True) as rig:
        req = rig.pusher.text(OPENID, "你好", msg_id="1", create_time=rig.now_ts())
        forged = WebhookRequest("POST", "/wechat", {**req.query, "msg_signature": "0" * 40}, {}, req.body)
        assert (await rig.post(forged)).status == 403
        assert await counts(rig) == (0, 0, 0)


# -- WeChat's retries ----------------------------------------------------------------------------


async def test_a_retried_message_is_processed_once_and_answered_alike(start: Start) -> None:
    async with start(safe_mode=True) as rig:
        answers = [await rig.text(OPENID, "你好", msg_id="6000000000000000001") for _ in range(3)]
        assert [(a.status, a.text) for a in answers] == [(200, UNBOUND)] * 3
        assert await rig.scalar("SELECT COUNT(*) FROM inbound") == 1
        assert await rig.scalar("SELECT COUNT(*) FROM outbox") == 1
        assert await rig.scalar("SELECT status || ' ' || external_id FROM outbox") == "sent passive:1"
        await rig.deliver()
        assert rig.api.texts == [] and rig.sms.sent == []


async def test_a_retried_event_is_processed_once(start: Start) -> None:
    async with start() as rig:
        first = await rig.event(OPENID, "subscribe", create_time=1_777_600_000)
        again = await rig.event(OPENID, "subscribe", create_time=1_777_600_000)
        assert first.text == again.text == wording.render("wechat_welcome", {})
        later = await rig.event(OPENID, "subscribe", create_time=1_777_600_100)   # a new subscription
        assert later.text == first.text
        assert await rig.scalar("SELECT COUNT(*) FROM inbound") == 2
        assert await rig.scalar("SELECT COUNT(*) FROM outbox") == 2


async def test_a_template_delivery_report_is_acknowledged_and_applied(start: Start) -> None:
    async with start() as rig:
        report = rig.pusher.template_finish(OPENID, "3000000001", "success", create_time=rig.now_ts())
        answer = await rig.post(report)
        assert (answer.status, answer.text) == (200, SUCCESS)
        assert await rig.scalar("SELECT COUNT(*) FROM inbound") == 0
        assert await rig.scalar("SELECT COUNT(*) FROM early_receipts") == 1   # kept until its send is recorded


# -- signed but absurd pushes --------------------------------------------------------------------


def message(create_time: str = "1777600000", content: str = "你好", msg_id: str = "6000000000000000009",
            sender: str = OPENID) -> bytes:
    """A text message as WeChat writes it: CDATA taken as it is, nothing escaped or dropped."""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


@pytest.mark.parametrize("create_time", ["-30610224001", "-62135596800", "-1", "4294967296", "253402300799"])
async def test_an_absurd_create_time_is_refused_and_the_inbox_goes_on(start: Start, create_time: str) -> None:
    # WeChat writes unsigned Unix seconds. Before, any int() was taken: a year-999 push answered 500
    # and stopped the inbox for everybody until the store wrote four-digit years; now such pushes
    # are refused and nothing dated 999 or 9999 (no Shanghai time: OverflowError) is recorded.
    async with start() as rig:
        answer = await rig.post(signed(message(create_time)))
        assert (answer.status, answer.text) == (400, f"bad CreateTime {create_time!r}\n")
        assert await counts(rig) == (0, 0, 0)
        await rig.runtime.inbox.process_pending()
        assert (await rig.post(signed(message(msg_id="6000000000000000010")))).text == UNBOUND


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plain", "safe-mode"])
async def test_a_message_with_a_control_character_is_answered_not_refused(start: Start, safe_mode: bool) -> None:
    # WeChat copies such characters into CDATA unescaped; before, the XML parser refused the push
    # with 400, WeChat retried and gave up, and the farmer's message was lost.
    async with start(safe_mode=safe_mode) as rig:
        body = message(content="卖\x1d玉米\x10")
        answer = await rig.post(rig.pusher.push_bytes(body) if safe_mode else signed(body))
        assert (answer.status, answer.text) == (200, UNBOUND)
        assert await rig.scalar("SELECT text FROM inbound") == "卖玉米"


async def test_a_msg_id_already_used_by_another_sender_is_refused_and_leaks_no_reply(start: Start) -> None:
    # Before: the push counted as a retry of the other user's message. Its sender got that user's
    # passive reply (whatever it said), and the message itself was dropped unseen.
    async with start() as rig:
        first = await rig.post(signed(message(content="绑定 13912345678", msg_id="77")))
        assert first.status == 200 and "139****5678" in first.text
        before = await counts(rig)
        other = await rig.post(signed(message(content="你好", msg_id="77", sender="o_somebody_else_000000000")))
        assert (other.status, other.text) == (400, "MsgId already used by another sender\n")
        assert await counts(rig) == before
        retry = await rig.post(signed(message(content="绑定 13912345678", msg_id="77")))   # the sender's retry
        assert (retry.status, retry.text) == (200, first.text)


@pytest.mark.parametrize("encoding", ["deflate", "gzip"])
async def test_a_body_that_does_not_decode_as_its_content_encoding_is_a_400(start: Start, encoding: str) -> None:
    # Before: reading the body raised aiohttp's RequestPayloadError and the push answered 500.
    async with start() as rig:
        query = signed(b"").query
        resp = await rig.client.post("/wechat", params=dict(query), data=message(),
                                     headers={"Content-Type": "text/xml", "Content-Encoding": encoding})
        assert resp.status == 400 and (await resp.text()).startswith("unreadable body")
        assert await counts(rig) == (0, 0, 0)


async def test_percent_escapes_of_half_an_emoji_in_the_query_are_a_refusal(start: Start) -> None:
    # aiohttp reads %ED%A0%BD as U+FFFD, so this never reached the signature check as a lone
    # surrogate (the gateway now refuses one with 400 too): a plain 403, never a 500.
    async with start() as rig:
        good = dict(rig.pusher.verification("e").query)
        query = "&".join(f"{k}={v}" for k, v in good.items() if k != "nonce") + "&nonce=%ED%A0%BD"
        resp = await rig.client.get("/wechat?" + query)
        assert (resp.status, await resp.text()) == (403, "bad signature\n")
        resp = await rig.client.post("/wechat?" + query, data=message())
        assert (resp.status, await resp.text()) == (403, "bad signature\n")
        assert await counts(rig) == (0, 0, 0)
