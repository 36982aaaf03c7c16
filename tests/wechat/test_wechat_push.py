"""Pushes to /wechat: URL verification, plain and safe mode, mapping, dedupe keys, passive replies."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways import DeliveryReceipt, Gateway, GatewaySettings, InboundSms, WebhookError, WebhookRequest
from gateways.wechat import WechatGateway, build_text_reply, encrypt_reply, verify_url
from gateways.wechat_crypto import aes_key, decrypt, sha1_signature
from gateways.wechat_xml import build_xml, parse_fields
from tests.wechat.fake_push import WechatPusher
from tests.wechat.vectors import AES, fixture, vectors

TOKEN = "farmer-token"
APPID = "wx49f0ab532d5d035a"
KEY = AES["encoding_aes_key"]
OPENID = "oia2TjuEGTNoeX76QEjQNrcURxG8"


def gateway(**options: object) -> WechatGateway:
    opts = {"token": TOKEN, "appid": APPID, "secret": "s", "account_id": "gh_farmer", **options}
    return WechatGateway(GatewaySettings("wechat", "wechat", opts), httpx.AsyncClient())


GW_PLAIN = gateway()
GW_SAFE = gateway(encoding_aes_key=KEY)
FIELD_NAMES = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Content",
    "MsgId",
    "Event",
    "MsgID",
    "Status",
]


def plain(body: bytes, token: str = TOKEN) -> WebhookRequest:
    query = {"timestamp": "1714037059", "nonce": "486452656"}
    query["signature"] = sha1_signature(token, query["timestamp"], query["nonce"])
    return WebhookRequest("POST", "/wechat", query, {}, body)


def test_gateway_meets_the_protocol() -> None:
    gw = gateway()
    assert isinstance(gw, Gateway)
    caps = gw.capabilities()
    assert (caps.channel, caps.templates, caps.max_segments) == ("wechat", None, 1)
    assert gw.ack("inbound") == (200, "text/plain; charset=utf-8", b"success")


# -- URL verification ------------------------------------------------------------------------


def test_url_verification_echoes_echostr_from_the_official_example() -> None:
    case = vectors()["url_signature"][1]
    query = {k: case[k] for k in ("timestamp", "nonce", "echostr", "signature")}
    assert verify_url(case["token"], query) == "4375120948345356249"


def test_url_verification_is_plain_in_safe_mode_too() -> None:
    pusher = WechatPusher(TOKEN, APPID, encoding_aes_key=KEY)
    req = pusher.verification("echo-me")
    assert gateway(encoding_aes_key=KEY).verify_url(req.query) == "echo-me"


@pytest.mark.parametrize("drop", ["signature", "timestamp", "nonce"])
def test_url_verification_without_a_parameter_is_403(drop: str) -> None:
    query = dict(WechatPusher(TOKEN).verification().query)
    del query[drop]
    with pytest.raises(WebhookError) as err:
        verify_url(TOKEN, query)
    assert err.value.status == 403


def test_url_verification_with_a_wrong_token_is_403() -> None:
    query = WechatPusher("other-token").verification().query
    with pytest.raises(WebhookError, match="bad signature") as err:
        verify_url(TOKEN, query)
    assert err.value.status == 403


# -- plain mode ------------------------------------------------------------------------------


def test_documented_text_message_becomes_inbound() -> None:
    [sms] = gateway().parse_inbound(plain(fixture("text.xml")))
    assert sms == InboundSms(
        sender="fromUser",
        text="this is a test",
        external_id="1234567890123456",
        received_at=datetime(2012, 9, 28, 11, 31, tzinfo=UTC),
        recipient="toUser",
    )


@pytest.mark.parametrize(
    ("name", "event"),
    [("subscribe.xml", "subscribe"), ("unsubscribe.xml", "unsubscribe"), ("click.xml", "CLICK")],
)
def test_events_become_inbound_with_event_and_no_text(name: str, event: str) -> None:
    [sms] = gateway().parse_inbound(plain(fixture(name)))
    assert (sms.sender, sms.text, sms.event) == ("FromUser", "", event)
    assert sms.external_id == f"FromUser:123456789:{event}"


@pytest.mark.parametrize(("name", "kind"), [("image.xml", "image"), ("voice.xml", "voice")])
def test_other_message_types_are_marked_unsupported(name: str, kind: str) -> None:
    [sms] = gateway().parse_inbound(plain(fixture(name)))
    assert (sms.event, sms.text, sms.external_id) == (f"unsupported:{kind}", "", "1234567890123456")


def test_bad_signature_is_403_before_the_body_is_parsed() -> None:
    with pytest.raises(WebhookError) as err:
        gateway().parse_inbound(plain(fixture("hostile/billion_laughs.xml"), token="wrong"))
    assert err.value.status == 403


@pytest.mark.parametrize(
    "name", ["hostile/billion_laughs.xml", "hostile/external_entity.xml", "hostile/truncated.xml"]
)
def test_signed_hostile_bodies_are_400(name: str) -> None:
    with pytest.raises(WebhookError) as err:
        gateway().parse_inbound(plain(fixture(name)))
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<xml><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>", "missing FromUserName"),
        (b"<xml><FromUserName>o</FromUserName><CreateTime>soon</CreateTime></xml>", "bad CreateTime"),
        (b"<xml><FromUserName>o</FromUserName><CreateTime>99999999999999999</CreateTime></xml>", "bad"),
    ],
)
def test_messages_missing_essentials_are_400(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookError, match=reason) as err:
        gateway().parse_inbound(plain(body))
    assert err.value.status == 400


def test_get_is_not_a_push() -> None:
    req = WechatPusher(TOKEN).verification()
    with pytest.raises(WebhookError) as err:
        gateway().parse_inbound(req)
    assert err.value.status == 400


# -- template delivery reports ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "receipt"),
    [
        ("template_finish_success.xml", DeliveryReceipt("200163836", "delivered", "success")),
        ("template_finish_user_block.xml", DeliveryReceipt("200163840", "failed", "user block")),
        ("template_finish_system_failed.xml", DeliveryReceipt("200163840", "failed", "system failed")),
    ],
)
def test_template_finish_events_are_receipts_not_messages(name: str, receipt: DeliveryReceipt) -> None:
    gw = gateway()
    assert gw.parse_receipt(plain(fixture(name))) == [receipt]
    assert gw.parse_inbound(plain(fixture(name))) == []


@pytest.mark.parametrize("name", ["text.xml", "subscribe.xml", "image.xml"])
def test_anything_else_has_no_receipt(name: str) -> None:
    assert gateway().parse_receipt(plain(fixture(name))) == []


def test_unknown_template_status_gives_no_receipt() -> None:
    req = WechatPusher(TOKEN).template_finish(OPENID, "77", "pending", create_time=1)
    assert gateway().parse_receipt(req) == []


# -- safe mode -------------------------------------------------------------------------------


def test_public_encrypted_vector_decodes() -> None:
    case = AES["decrypt"]
    query = {
        "timestamp": case["timestamp"],
        "nonce": case["nonce"],
        "encrypt_type": "aes",
        "msg_signature": case["msg_signature"],
    }
    gw = gateway(token=AES["token"], encoding_aes_key=KEY, appid=AES["appid"])
    [sms] = gw.parse_inbound(WebhookRequest("POST", "/wechat", query, {}, fixture(case["fixture"])))
    assert (sms.sender, sms.text, sms.external_id) == ("messense", "test", "4363689963896700987")


def test_safe_mode_text_round_trip() -> None:
    pusher = WechatPusher(TOKEN, APPID, encoding_aes_key=KEY)
    req = pusher.text(OPENID, "卖玉米 5吨 ]]> <b>", msg_id="6349323426230210995", create_time=1478317060)
    push = gateway(encoding_aes_key=KEY).parse_push(req)
    assert push.encrypted
    assert [(s.sender, s.text, s.external_id) for s in push.inbound] == [
        (OPENID, "卖玉米 5吨 ]]> <b>", "6349323426230210995")
    ]


def test_safe_mode_bad_msg_signature_is_403() -> None:
    req = WechatPusher(TOKEN, APPID, encoding_aes_key=KEY).text(OPENID, "hi", msg_id="1", create_time=1)
    query = {**req.query, "msg_signature": "0" * 40}
    with pytest.raises(WebhookError, match="bad msg_signature") as err:
        gateway(encoding_aes_key=KEY).parse_inbound(WebhookRequest("POST", "/wechat", query, {}, req.body))
    assert err.value.status == 403


def test_safe_mode_message_for_another_appid_is_403() -> None:
    req = WechatPusher(TOKEN, "wx_someone_else", encoding_aes_key=KEY).text(
        OPENID, "hi", msg_id="1", create_time=1
    )
    with pytest.raises(WebhookError, match="another appid") as err:
        gateway(encoding_aes_key=KEY).parse_inbound(req)
    assert err.value.status == 403


def test_safe_mode_refuses_plain_pushes_unless_allowed() -> None:
    req = WechatPusher(TOKEN, APPID).text(OPENID, "hi", msg_id="1", create_time=1)
    with pytest.raises(WebhookError) as err:
        gateway(encoding_aes_key=KEY).parse_inbound(req)
    assert err.value.status == 403
    assert gateway(encoding_aes_key=KEY, allow_plain=True).parse_inbound(req)[0].text == "hi"


def test_encrypted_push_without_a_configured_key_is_403() -> None:
    req = WechatPusher(TOKEN, APPID, encoding_aes_key=KEY).text(OPENID, "hi", msg_id="1", create_time=1)
    with pytest.raises(WebhookError) as err:
        gateway().parse_inbound(req)
    assert err.value.status == 403


def test_signed_envelope_with_garbage_ciphertext_is_400() -> None:
    query = {"timestamp": "1", "nonce": "2", "encrypt_type": "aes"}
    query["msg_signature"] = sha1_signature(TOKEN, "1", "2", "bm90IGFlcw==")
    body = b"<xml><Encrypt><![CDATA[bm90IGFlcw==]]></Encrypt></xml>"
    with pytest.raises(WebhookError, match="cannot decrypt") as err:
        gateway(encoding_aes_key=KEY).parse_inbound(WebhookRequest("POST", "/wechat", query, {}, body))
    assert err.value.status == 400


def test_encrypted_hostile_inner_xml_is_400() -> None:
    pusher = WechatPusher(TOKEN, APPID, encoding_aes_key=KEY)
    with pytest.raises(WebhookError) as err:
        gateway(encoding_aes_key=KEY).parse_inbound(pusher.push_bytes(fixture("hostile/billion_laughs.xml")))
    assert err.value.status == 400


# -- WeChat's three retries ------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, KEY])
def test_retries_share_one_dedupe_key(key: str | None) -> None:
    pusher = WechatPusher(TOKEN, APPID, encoding_aes_key=key)
    gw = gateway(encoding_aes_key=key) if key else gateway()
    texts = [pusher.text(OPENID, "买化肥", msg_id="42", create_time=1_700_000_000) for _ in range(3)]
    events = [pusher.event(OPENID, "subscribe", create_time=1_700_000_001) for _ in range(3)]
    assert len({(r.query["nonce"], r.body) for r in texts}) == 3  # the retries differ on the wire
    assert {gw.parse_inbound(r)[0].external_id for r in texts} == {"42"}
    assert {gw.parse_inbound(r)[0].external_id for r in events} == {f"{OPENID}:1700000001:subscribe"}


# -- passive replies -------------------------------------------------------------------------

NOW = datetime(2024, 4, 25, 9, 24, 19, tzinfo=UTC)


def test_text_reply_xml() -> None:
    body = build_text_reply(OPENID, "gh_farmer", "收到]]>谢谢", NOW)
    assert parse_fields(body) == {
        "ToUserName": OPENID,
        "FromUserName": "gh_farmer",
        "CreateTime": str(int(NOW.timestamp())),
        "MsgType": "text",
        "Content": "收到]]>谢谢",
    }


def test_encrypt_reply_reproduces_the_public_envelope() -> None:
    case = AES["encrypt"]
    envelope = encrypt_reply(
        case["reply"].encode(),
        token=AES["token"],
        aes_key=aes_key(KEY),
        appid=AES["appid"],
        timestamp=case["timestamp"],
        nonce=case["nonce"],
        random_prefix=case["random_prefix"].encode(),
    )
    assert envelope.decode() == case["envelope"]


def test_passive_reply_to_a_plain_push_is_plain_xml() -> None:
    gw = gateway()
    push = gw.parse_push(WechatPusher(TOKEN, APPID).text(OPENID, "hi", msg_id="1", create_time=1))
    status, ctype, body = gw.passive_reply(push, "您好", NOW)
    assert (status, ctype) == (200, "application/xml; charset=utf-8")
    assert parse_fields(body)["Content"] == "您好"
    assert parse_fields(body)["FromUserName"] == "gh_farmer"


def test_passive_reply_to_an_encrypted_push_is_encrypted_and_signed() -> None:
    gw = gateway(encoding_aes_key=KEY, account_id="")
    pusher = WechatPusher(TOKEN, APPID, encoding_aes_key=KEY, account_id="gh_from_push")
    push = gw.parse_push(pusher.text(OPENID, "hi", msg_id="1", create_time=1))
    _, _, body = gw.passive_reply(push, "您好", NOW, nonce="12345")
    envelope = parse_fields(body)
    assert (envelope["TimeStamp"], envelope["Nonce"]) == (str(int(NOW.timestamp())), "12345")
    expected = sha1_signature(TOKEN, envelope["TimeStamp"], "12345", envelope["Encrypt"])
    assert envelope["MsgSignature"] == expected
    inner, appid = decrypt(aes_key(KEY), envelope["Encrypt"])
    assert appid == APPID
    fields = parse_fields(inner)
    assert (fields["ToUserName"], fields["FromUserName"], fields["Content"]) == (
        OPENID,
        "gh_from_push",
        "您好",
    )


def test_no_passive_reply_to_a_receipt() -> None:
    gw = gateway()
    push = gw.parse_push(plain(fixture("template_finish_success.xml")))
    with pytest.raises(ValueError, match="no user message"):
        gw.passive_reply(push, "x", NOW)


def test_empty_passive_reply_is_the_plain_ack() -> None:
    gw = gateway(encoding_aes_key=KEY)
    push = gw.parse_push(
        WechatPusher(TOKEN, APPID, encoding_aes_key=KEY).text(OPENID, "hi", msg_id="1", create_time=1)
    )
    assert gw.passive_reply(push, "  ", NOW) == gw.ack("inbound")


# -- nothing but WebhookError, whatever arrives ----------------------------------------------


@given(body=st.binary(max_size=300))
def test_signed_plain_push_of_arbitrary_bytes_raises_only_webhook_error(body: bytes) -> None:
    try:
        GW_PLAIN.parse_push(plain(body))
    except WebhookError as exc:
        assert exc.status == 400


values = st.one_of(
    st.text(max_size=30), st.integers(-(2**40), 2**40).map(str), st.sampled_from(["text", "event"])
)


@given(fields=st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=9))
def test_arbitrary_field_values_raise_only_webhook_error(fields: dict[str, str]) -> None:
    try:
        push = GW_PLAIN.parse_push(plain(build_xml(dict(fields)).encode()))
    except WebhookError as exc:
        assert exc.status == 400
    else:
        assert len(push.inbound) + len(push.receipts) <= 1


@given(ciphertext=st.text(max_size=200))
def test_signed_envelope_of_arbitrary_ciphertext_raises_only_webhook_error(ciphertext: str) -> None:
    query = {"timestamp": "1", "nonce": "2", "encrypt_type": "aes"}
    body = build_xml({"ToUserName": "gh", "Encrypt": ciphertext}).encode()
    try:
        encrypt_text = parse_fields(body).get("Encrypt", "")
    except WebhookError:
        return
    query["msg_signature"] = sha1_signature(TOKEN, "1", "2", encrypt_text)
    try:
        GW_SAFE.parse_push(WebhookRequest("POST", "/wechat", query, {}, body))
    except WebhookError as exc:
        assert exc.status in (400, 403)
