"""Kannel's MO `bin`, any bytes in any coding we accept: storable text, or a 400 naming the coding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateways import WebhookError
from gateways.kannel import decode_mo


@given(data=st.binary(max_size=60), coding=st.sampled_from(["0", "2", ""]),
       charset=st.sampled_from(["", "UTF-8", "UTF-16BE", "GBK"]))
def test_any_mo_bytes_decode_to_storable_text_or_are_refused_400(data: bytes, coding: str, charset: str) -> None:
    try:
        text = decode_mo(data, coding, charset)
    except WebhookError as exc:
        assert exc.status == 400 and exc.reason.startswith("bin is not valid")
        return
    text.encode("utf-8")   # no lone surrogate: SQLite could store it


def test_ucs2_with_half_an_emoji_keeps_the_rest_of_the_message() -> None:
    assert decode_mo("求".encode("utf-16-be") + b"\xd8\x3d" + "购".encode("utf-16-be"), "2", "") == "求\ufffd购"
