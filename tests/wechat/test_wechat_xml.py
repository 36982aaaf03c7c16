"""The hardened XML parser and the reply builders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways import WebhookError
from gateways.wechat_xml import build_envelope, build_xml, cdata, parse_fields
from tests.wechat.vectors import fixture


def test_documented_text_message() -> None:
    assert parse_fields(fixture("text.xml")) == {
        "ToUserName": "toUser",
        "FromUserName": "fromUser",
        "CreateTime": "1348831860",
        "MsgType": "text",
        "Content": "this is a test",
        "MsgId": "1234567890123456",
    }


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hostile/billion_laughs.xml", "forbidden XML construct: DTDForbidden"),
        ("hostile/external_entity.xml", "forbidden XML construct: DTDForbidden"),
        ("hostile/external_dtd.xml", "forbidden XML construct: DTDForbidden"),
        ("hostile/internal_entity.xml", "forbidden XML construct: DTDForbidden"),
        ("hostile/truncated.xml", "malformed XML"),
        ("hostile/wrong_root.xml", "root element is <html>"),
    ],
)
def test_hostile_bodies_are_refused_with_400(name: str, reason: str) -> None:
    with pytest.raises(WebhookError) as err:
        parse_fields(fixture(name))
    assert err.value.status == 400
    assert err.value.reason.startswith(reason)


def test_oversized_body_is_refused_before_parsing() -> None:
    body = b"<xml><Content>" + b"a" * (64 * 1024) + b"</Content></xml>"
    with pytest.raises(WebhookError, match="larger than 65536 bytes") as err:
        parse_fields(body)
    assert err.value.status == 400
    assert parse_fields(body, max_bytes=len(body))["Content"] == "a" * 64 * 1024


@pytest.mark.parametrize("body", [b"", b"  \n", b"\xff\xfe<", b'<?xml version="1.0" encoding="nope"?><xml/>'])
def test_junk_is_a_400(body: bytes) -> None:
    with pytest.raises(WebhookError) as err:
        parse_fields(body)
    assert err.value.status == 400


def test_first_occurrence_wins_and_nested_children_are_not_flattened() -> None:
    body = b"<xml><A>1</A><A>2</A><Info><Inner>x</Inner></Info></xml>"
    assert parse_fields(body) == {"A": "1", "Info": ""}


@given(st.binary(max_size=512))
def test_arbitrary_bytes_raise_only_webhook_error(body: bytes) -> None:
    try:
        parse_fields(body)
    except WebhookError as exc:
        assert exc.status == 400


xmlish = st.lists(
    st.sampled_from(
        ["<xml>", "</xml>", "<A>", "</A>", "<![CDATA[", "]]>", "<!DOCTYPE x [", "&a;", "x", "<?xml?>"]
    ),
    max_size=20,
).map(lambda parts: "".join(parts).encode())


@given(xmlish)
def test_xml_like_fragments_raise_only_webhook_error(body: bytes) -> None:
    try:
        parse_fields(body)
    except WebhookError as exc:
        assert exc.status == 400


def test_cdata_cannot_be_closed_early() -> None:
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    body = build_xml({"Content": "]]><Evil>1</Evil>", "N": 3}).encode()
    assert parse_fields(body) == {"Content": "]]><Evil>1</Evil>", "N": "3"}


@given(st.text())
def test_any_text_round_trips_through_cdata(text: str) -> None:
    parsed = parse_fields(build_xml({"Content": text}).encode())["Content"]
    # Characters XML cannot carry are dropped; the parser strips surrounding whitespace.
    expected = "".join(ch for ch in text if ch in "\t\n\r" or (ch >= " " and ch not in "\ufffe\uffff"))
    assert parsed == expected.replace("\r\n", "\n").replace("\r", "\n").strip()


def test_envelope_layout() -> None:
    assert build_envelope("ENC", "SIG", "1411525903", "461056294") == (
        "<xml>\n<Encrypt><![CDATA[ENC]]></Encrypt>\n<MsgSignature><![CDATA[SIG]]></MsgSignature>\n"
        "<TimeStamp>1411525903</TimeStamp>\n<Nonce><![CDATA[461056294]]></Nonce>\n</xml>"
    )
