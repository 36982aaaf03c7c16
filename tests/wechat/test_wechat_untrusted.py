"""Pushes nobody should send, decoded by the pure WeChat parsers: whatever a signed push carries is
either read into fields the service can store and use, or refused with WebhookError 400/403.

The broader "only WebhookError" properties live beside the features (test_wechat_push.py,
test_wechat_xml.py, test_wechat_crypto.py); these check that what is accepted is also usable.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.clock import from_db, local, to_db
from gateways import WebhookError
from gateways.wechat_crypto import WechatCryptoError, aes_key, decrypt, encrypt, sha1_signature
from gateways.wechat_push import PushKeys, WechatPush, decode_push, to_inbound, verify_url
from gateways.wechat_xml import parse_fields
from tests.helpers import utf8_text
from tests.wechat.service_rig import AES_KEY, APPID, TOKEN

OPENID = "o_untrusted_00000000000000000"
PLAIN = PushKeys(TOKEN, APPID)
SAFE = PushKeys(TOKEN, APPID, aes_key=aes_key(AES_KEY))


create_times = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.integers(0, 2**33).map(str),
    st.text(max_size=24),
    st.from_regex(r"\s*[+-]?[0-9_]{1,14}\s*", fullmatch=True),
)


def storable(when: datetime) -> bool:
    """True when the store reads the time back as written and it can be shown in local time."""
    return from_db(to_db(when)) == when and local(when).year > 0


@given(create_time=create_times)
def test_any_create_time_is_a_storable_time_or_a_400(create_time: str) -> None:
    fields = {"FromUserName": OPENID, "CreateTime": create_time, "MsgType": "text", "Content": "hi"}
    try:
        [sms] = to_inbound(fields)
    except WebhookError as exc:
        assert exc.status == 400 and "CreateTime" in exc.reason
        return
    assert sms.received_at.tzinfo is UTC and storable(sms.received_at)
    assert create_time.isascii() and create_time.isdigit()   # a Unix time, as WeChat writes it


def test_create_times_wechat_never_writes_are_refused() -> None:
    # All were accepted. Year 999 was stored as '999-...' and stopped the inbox for everybody until the
    # store wrote four-digit years; year 9999 is still a time Asia/Shanghai cannot show (OverflowError).
    for create_time in ("-30610224001", "-62135596800", "-1", "+1714037059", "١٧١٤٠٣٧٠٥٩", "4294967296",
                        "253402300799"):
        fields = {"FromUserName": OPENID, "CreateTime": create_time, "MsgType": "text"}
        with pytest.raises(WebhookError) as info:
            to_inbound(fields)
        assert info.value.status == 400, create_time


# WeChat puts a user's text into CDATA as it is: control characters too, which XML 1.0 forbids.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"), max_size=60)


def as_wechat_writes(content: str) -> bytes:
    """A text message whose Content goes into CDATA unchanged (split only where it says ']]>')."""
    inner = content.replace("]]>", "]]]]><![CDATA[>")
    return (f"<xml><FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>1714037059</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{inner}]]></Content></xml>").encode()


def without_controls(text: str) -> str:
    """What the service keeps of a text: XML's forbidden controls dropped, lines and ends as XML reads them."""
    kept = "".join(ch for ch in text if ch >= " " or ch in "\t\n\r")
    return kept.replace("\r\n", "\n").replace("\r", "\n").strip()


@given(content=ANY_TEXT)
def test_any_text_wechat_sends_is_read_with_control_characters_dropped(content: str) -> None:
    assert parse_fields(as_wechat_writes(content))["Content"] == without_controls(content)


def test_the_control_characters_reported_from_wechat_are_dropped_not_refused() -> None:
    # \x1d and \x10 inside CDATA, as other WeChat libraries' users reported them: before, a 400, so
    # WeChat retried, gave up, and the user saw "该公众号暂时无法提供服务"; the message was lost.
    assert parse_fields(as_wechat_writes(" \x1dc"))["Content"] == "c"
    assert parse_fields(as_wechat_writes("卖\x10玉米"))["Content"] == "卖玉米"
    assert parse_fields(as_wechat_writes("a\x00b\x08c\x0bd\x0ce\x1ff"))["Content"] == "abcdef"


def test_utf16_bodies_keep_their_nul_bytes() -> None:
    body = as_wechat_writes("你好").decode().replace("<xml>", '<?xml version="1.0" encoding="utf-16"?><xml>', 1)
    assert parse_fields(body.encode("utf-16"))["Content"] == "你好"


# -- query parameters: any text at all, lone surrogates included --------------------------------

QUERY_NAMES = ("signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature", "openid")
# Pieces of every kind, lone surrogates (category Cs) among them. Drawn as their own pieces: among all
# code points they are rare, and a text() over one_of(characters) leaves them out altogether.
LONE_SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
                          min_size=1, max_size=2)
PIECES = st.one_of(st.text(st.characters(exclude_categories=()), max_size=4), LONE_SURROGATES,
                   st.sampled_from(["1714037059", "486452656", "aes", "0" * 40]))
ANY_VALUE = st.lists(PIECES, max_size=3).map("".join)
queries = st.fixed_dictionaries({}, optional=dict.fromkeys(QUERY_NAMES, ANY_VALUE))


@given(query=queries)
def test_any_url_verification_query_is_answered_or_refused(query: dict[str, str]) -> None:
    try:
        echo = verify_url(TOKEN, query)
    except WebhookError as exc:
        assert exc.status in (400, 403)
    else:
        assert echo == query["echostr"]


@given(query=queries, signed_as_is=st.booleans())
def test_any_push_query_is_answered_or_refused(query: dict[str, str], signed_as_is: bool) -> None:
    if signed_as_is and utf8_text(query.get("timestamp", "") + query.get("nonce", "")):
        query["signature"] = sha1_signature(TOKEN, query.get("timestamp", ""), query.get("nonce", ""))
    for keys in (PLAIN, SAFE):
        try:
            decode_push(keys, query, as_wechat_writes("hi"))
        except WebhookError as exc:
            assert exc.status in (400, 403)


def test_a_lone_surrogate_in_a_signature_parameter_is_refused() -> None:
    # Before: UnicodeEncodeError out of the signature check instead of a refusal.
    for name in ("signature", "timestamp", "nonce"):
        query = {"signature": "0" * 40, "timestamp": "1714037059", "nonce": "486452656", "echostr": "e"}
        query[name] += "\ud83d"
        for check in (lambda q: verify_url(TOKEN, q), lambda q: decode_push(PLAIN, q, as_wechat_writes("hi"))):
            with pytest.raises(WebhookError) as info:
                check(query)
            assert info.value.status == 400, name


# -- whole pushes: fields of any text, inner bodies of any bytes, tampered ciphertexts ----------

FIELD_NAMES = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "MsgID",
               "Status", "EventKey")
FIELD_VALUES = st.one_of(ANY_TEXT, st.sampled_from(["text", "event", "subscribe", "TEMPLATESENDJOBFINISH",
                                                    "success", "failed:user block", "1714037059", "0"]),
                         st.integers(-(2**40), 2**40).map(str))
pushed_fields = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELD_NAMES, FIELD_VALUES))


def raw_xml(fields: dict[str, str]) -> bytes:
    """Fields in CDATA as WeChat writes them (nothing dropped: control characters stay)."""
    inner = "".join(f"<{k}><![CDATA[{v.replace(']]>', ']]]]><![CDATA[>')}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode()


def signed_query(**extra: str) -> dict[str, str]:
    """A URL signed with the test token."""
    return {"timestamp": "1714037059", "nonce": "486452656",
            "signature": sha1_signature(TOKEN, "1714037059", "486452656"), **extra}


def assert_usable(push: WechatPush) -> None:
    """What the handler stores and answers: a sender, a key, a storable time, UTF-8 text."""
    assert len(push.inbound) + len(push.receipts) <= 1
    for sms in push.inbound:
        assert sms.sender and sms.external_id and storable(sms.received_at)
        assert all(utf8_text(v) for v in (sms.sender, sms.text, sms.external_id, sms.recipient, sms.event))
    for receipt in push.receipts:
        assert receipt.external_id and receipt.status in ("delivered", "failed")


@given(fields=pushed_fields)
def test_any_signed_plain_push_is_usable_or_a_400(fields: dict[str, str]) -> None:
    try:
        push = decode_push(PLAIN, signed_query(), raw_xml(fields))
    except WebhookError as exc:
        assert exc.status == 400
    else:
        assert_usable(push)


def encrypted(inner: bytes, appid: str = APPID) -> tuple[dict[str, str], bytes]:
    """A safe-mode push carrying `inner` as the encrypted message, signed."""
    ciphertext = encrypt(aes_key(AES_KEY), inner, appid)
    return encrypted_envelope(ciphertext)


def encrypted_envelope(ciphertext: str) -> tuple[dict[str, str], bytes]:
    """The envelope for a ciphertext (whatever it is), with a msg_signature over it."""
    query = signed_query(encrypt_type="aes")
    query["msg_signature"] = sha1_signature(TOKEN, query["timestamp"], query["nonce"], ciphertext)
    body = f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
    return query, body.encode()


@given(fields=pushed_fields)
def test_any_encrypted_push_is_usable_or_a_400(fields: dict[str, str]) -> None:
    try:
        push = decode_push(SAFE, *encrypted(raw_xml(fields)))
    except WebhookError as exc:
        assert exc.status == 400
    else:
        assert push.encrypted
        assert_usable(push)


@given(inner=st.binary(max_size=200))
def test_any_encrypted_bytes_are_usable_or_a_400(inner: bytes) -> None:
    try:
        push = decode_push(SAFE, *encrypted(inner))
    except WebhookError as exc:
        assert exc.status == 400
    else:
        assert_usable(push)


@given(data=st.data())
def test_a_tampered_ciphertext_is_refused_400_or_403(data: st.DataObject) -> None:
    raw = bytearray(base64.b64decode(encrypt(aes_key(AES_KEY), as_wechat_writes("卖玉米"), APPID)))
    cut = data.draw(st.integers(0, len(raw)), label="kept bytes")
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)), max_size=3))
    for index, mask in flips:
        raw[index] ^= mask
    ciphertext = base64.b64encode(bytes(raw[:cut])).decode()
    try:
        push = decode_push(SAFE, *encrypted_envelope(ciphertext))
    except WebhookError as exc:
        assert exc.status in (400, 403)
    else:   # CBC: a flip in the first block garbles the random prefix and flips bits of the next one
        assert_usable(push)


@given(appid=st.text(max_size=20))
def test_a_message_for_another_appid_is_refused_403(appid: str) -> None:
    try:
        push = decode_push(SAFE, *encrypted(as_wechat_writes("hi"), appid))
    except WebhookError as exc:
        assert exc.status == 403 and appid != APPID
    else:
        assert appid == APPID and push.inbound[0].text == "hi"


@given(blocks=st.binary(min_size=16, max_size=160).map(lambda b: b[: len(b) // 16 * 16]))
def test_decrypting_any_plaintext_blocks_raises_only_the_crypto_error(blocks: bytes) -> None:
    key = aes_key(AES_KEY)
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    ciphertext = base64.b64encode(enc.update(blocks) + enc.finalize()).decode()
    try:
        message, appid = decrypt(key, ciphertext)
    except WechatCryptoError:
        return
    assert len(message) + len(appid.encode()) <= len(blocks) - 20
