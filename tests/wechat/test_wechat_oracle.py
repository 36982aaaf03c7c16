"""wechatpy as an independent oracle: each side decrypts what the other encrypts (dev-only dep)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways.wechat_crypto import aes_key, decrypt, encrypt, sha1_signature
from gateways.wechat_xml import parse_fields
from tests.wechat.vectors import AES

KEY = aes_key(AES["encoding_aes_key"])

wechatpy_crypto = pytest.importorskip("wechatpy.crypto")


@given(message=st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), min_size=1))
def test_wechatpy_reads_what_we_encrypt(message: str) -> None:
    theirs = wechatpy_crypto.WeChatCrypto(AES["token"], AES["encoding_aes_key"], AES["appid"])
    xml = f"<xml><Content>{base64.b64encode(message.encode()).decode()}</Content></xml>"
    ciphertext = encrypt(KEY, xml.encode(), AES["appid"])
    signature = sha1_signature(AES["token"], "1", "2", ciphertext)
    envelope = f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
    assert theirs.decrypt_message(envelope, signature, "1", "2") == xml


@given(message=st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), min_size=1))
def test_we_read_what_wechatpy_encrypts(message: str) -> None:
    theirs = wechatpy_crypto.WeChatCrypto(AES["token"], AES["encoding_aes_key"], AES["appid"])
    xml = f"<xml><Content>{base64.b64encode(message.encode()).decode()}</Content></xml>"
    envelope = parse_fields(theirs.encrypt_message(xml, "461056294", "1411525903").encode())
    expected = sha1_signature(AES["token"], "1411525903", "461056294", envelope["Encrypt"])
    assert envelope["MsgSignature"] == expected
    assert decrypt(KEY, envelope["Encrypt"]) == (xml.encode(), AES["appid"])
