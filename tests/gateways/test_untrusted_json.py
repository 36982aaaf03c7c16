"""JSON webhooks fed anything JSON can say: half an emoji escaped on its own is mended, never a crash.

"\\ud83d" alone is valid JSON and no text: SQLite cannot store it, and before it was mended the
webhook answered 500 and the provider retried the same message for ever.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from gateways import WebhookError, WebhookRequest, jsonhooks
from gateways.common import mend_surrogates
from tests.helpers import utf8_text

ANY_CHARACTER = st.characters(exclude_categories=())   # lone surrogates (category Cs) included
ANY_TEXT = st.text(ANY_CHARACTER, min_size=1, max_size=40)


def request(body: bytes) -> WebhookRequest:
    """An inbound webhook in the JSON format (memory, console, http gateways) carrying `body`."""
    return WebhookRequest("POST", "/memory/in", {}, {"Content-Type": "application/json"}, body,
                          url="http://memory.invalid/memory/in")


@given(sender=ANY_TEXT, text=ANY_TEXT, external_id=ANY_TEXT)
def test_every_field_of_a_parsed_inbound_message_can_be_stored(sender: str, text: str, external_id: str) -> None:
    body = json.dumps([{"id": external_id, "from": sender, "text": text}]).encode()   # \\udXXX escapes
    [sms] = jsonhooks.parse_inbound(request(body))
    assert all(utf8_text(value) for value in (sms.sender, sms.text, sms.external_id))
    # nothing but the lone surrogates changed
    assert len(sms.text) == len(text)
    assert [a for a, b in zip(sms.text, text, strict=True) if a != b] == ["\ufffd"] * sum(
        1 for c in text if 0xD800 <= ord(c) <= 0xDFFF)


def test_a_cut_emoji_becomes_one_replacement_character_and_a_whole_one_stays() -> None:
    body = b'[{"id": "m1", "from": "13800001111", "text": "\\u5356\\ud83d \\ud83d\\ude00"}]'
    [sms] = jsonhooks.parse_inbound(request(body))
    assert sms.text == "卖\ufffd 😀"


def test_mending_reaches_nested_values_and_keys_and_leaves_other_types() -> None:
    assert mend_surrogates({"\ud800k": ["\udfff", {"x": "a\ud83d"}], "n": 1, "b": True, "z": None}) == {
        "\ufffdk": ["\ufffd", {"x": "a\ufffd"}], "n": 1, "b": True, "z": None}


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(ANY_TEXT, inner, max_size=3), max_leaves=8)
FIELDS = st.sampled_from(["id", "from", "text", "to", "event", "received_at", "status", "detail"])
ITEMS = st.lists(st.dictionaries(FIELDS, JSON, max_size=8), min_size=1, max_size=3)


@given(body=JSON | ITEMS)
def test_any_json_inbound_body_is_read_or_refused_400_and_what_is_read_can_be_stored(body: object) -> None:
    try:
        messages = jsonhooks.parse_inbound(request(json.dumps(body).encode()))
    except WebhookError as exc:
        assert exc.status == 400 and exc.reason
        return
    for sms in messages:
        fields = (sms.sender, sms.text, sms.external_id, sms.recipient, sms.event)
        assert all(isinstance(value, str) and utf8_text(value) for value in fields)
        assert sms.sender and sms.external_id and (sms.text or sms.event)


@given(body=JSON | ITEMS)
def test_any_json_receipt_body_is_read_or_refused_400(body: object) -> None:
    try:
        receipts = jsonhooks.parse_receipts(request(json.dumps(body).encode()))
    except WebhookError as exc:
        assert exc.status == 400 and exc.reason
        return
    for receipt in receipts:
        assert receipt.status in ("sent", "delivered", "failed")
        assert utf8_text(receipt.external_id) and utf8_text(receipt.detail)
