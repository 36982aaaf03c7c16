"""Pushes nobody should send, decoded by the pure WeChat parsers: whatever a signed push carries is
either read into fields the service can store and use, or refused with WebhookError 400/403.

The broader "only WebhookError" properties live beside the features (test_wechat_push.py,
test_wechat_xml.py, test_wechat_crypto.py); these check that what is accepted is also usable.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.clock import from_db, local, to_db
from gateways import WebhookError
from gateways.wechat_push import to_inbound

OPENID = "o_untrusted_00000000000000000"


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
        try:
            to_inbound(fields)
        except WebhookError as exc:
            assert exc.status == 400
        else:
            raise AssertionError(f"CreateTime {create_time!r} was accepted")
