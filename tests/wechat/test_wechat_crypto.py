"""WeChat signatures and safe-mode AES: public vectors, strictness, round trips, wechatpy oracle."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways.wechat_crypto import (
    WechatCryptoError,
    aes_key,
    decrypt,
    encrypt,
    pkcs7_pad,
    pkcs7_unpad,
    sha1_signature,
    signature_matches,
)
from gateways.wechat_xml import parse_fields
from tests.wechat.vectors import AES, fixture, vectors

KEY = aes_key(AES["encoding_aes_key"])


@pytest.mark.parametrize("case", vectors()["url_signature"], ids=lambda c: c["signature"][:8])
def test_url_signature_vectors(case: dict[str, str]) -> None:
    assert sha1_signature(case["token"], case["timestamp"], case["nonce"]) == case["signature"]


def test_signature_comparison_is_exact_but_case_insensitive() -> None:
    good = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    assert signature_matches(good, good.upper())
    assert not signature_matches(good, good[:-1] + "e")
    assert not signature_matches(good, "")
    assert not signature_matches(good, "签名")


def test_decrypt_vector() -> None:
    case = AES["decrypt"]
    envelope = parse_fields(fixture(case["fixture"]))
    ciphertext = envelope["Encrypt"]
    assert sha1_signature(AES["token"], case["timestamp"], case["nonce"], ciphertext) == case["msg_signature"]
    message, appid = decrypt(KEY, ciphertext)
    assert appid == AES["appid"]
    fields = parse_fields(message)
    assert (fields["Content"], fields["FromUserName"], fields["MsgId"]) == (
        case["Content"],
        case["FromUserName"],
        case["MsgId"],
    )


def test_encrypted_echostr_vector() -> None:
    case = AES["echostr"]
    signature = sha1_signature(AES["token"], case["timestamp"], case["nonce"], case["echostr"])
    assert signature == case["msg_signature"]
    assert decrypt(KEY, case["echostr"]) == (case["plain"].encode(), AES["appid"])


def test_encrypt_vector_with_fixed_random_prefix() -> None:
    case = AES["encrypt"]
    ciphertext = encrypt(KEY, case["reply"].encode(), AES["appid"], case["random_prefix"].encode())
    assert ciphertext in case["envelope"]
    assert decrypt(KEY, ciphertext) == (case["reply"].encode(), AES["appid"])


@pytest.mark.parametrize(
    "bad", ["", "short", AES["encoding_aes_key"] + "A", "!" * 43, AES["encoding_aes_key"][:-1] + "="]
)
def test_malformed_encoding_aes_key_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        aes_key(bad)


def test_padding_is_to_32_byte_blocks() -> None:
    assert len(pkcs7_pad(b"")) == 32
    assert pkcs7_pad(b"x" * 31) == b"x" * 31 + b"\x01"
    assert pkcs7_pad(b"x" * 32)[32:] == bytes([32]) * 32
    assert pkcs7_unpad(pkcs7_pad(b"abc")) == b"abc"


@pytest.mark.parametrize("bad", [b"", b"abc\x00", b"x" * 30 + b"\x02\x03", b"\x21" * 33, b"ab\x05"])
def test_bad_padding_is_refused(bad: bytes) -> None:
    with pytest.raises(WechatCryptoError):
        pkcs7_unpad(bad)


def _raw_encrypt(plain: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


@pytest.mark.parametrize(
    ("ciphertext", "reason"),
    [
        ("not base64!", "base64"),
        ("", "multiple"),
        (base64.b64encode(b"x" * 15).decode(), "multiple"),
        (_raw_encrypt(b"\x00" * 32), "padding"),
        (_raw_encrypt(b"r" * 16 + b"\x00\x00" + bytes([14]) * 14), "too short"),
        (_raw_encrypt(b"r" * 16 + b"\xff\xff\xff\xff" + b"abc" + bytes([9]) * 9), "exceeds"),
        (_raw_encrypt(b"r" * 16 + b"\x00\x00\x00\x00" + b"\xff" + bytes([11]) * 11), "UTF-8"),
    ],
)
def test_malformed_ciphertext_is_refused(ciphertext: str, reason: str) -> None:
    with pytest.raises(WechatCryptoError, match=reason):
        decrypt(KEY, ciphertext)


keys = st.binary(min_size=32, max_size=32).map(lambda raw: base64.b64encode(raw).decode()[:-1])


@given(encoding_key=keys, message=st.text(), appid=st.text(max_size=40))
def test_decrypt_inverts_encrypt(encoding_key: str, message: str, appid: str) -> None:
    key = aes_key(encoding_key)
    ciphertext = encrypt(key, message.encode(), appid)
    assert decrypt(key, ciphertext) == (message.encode(), appid)
