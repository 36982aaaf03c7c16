"""Times providers send, any value: a time the service can keep and show, or a 400.

Year 1 in Beijing time has no UTC (OverflowError, a 500 from Aliyun's and Tencent's webhooks);
year 9999 has no Beijing time; neither was ever sent by a provider.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways import WebhookError, WebhookRequest, jsonhooks
from gateways.common import EARLIEST, LATEST, china_time, epoch_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
# hypothesis takes naive bounds and attaches the zones itself
NAIVE = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))  # noqa: DTZ001
OFFSETS = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def usable(when: datetime) -> bool:
    """Inside the accepted range, and showable in Beijing time."""
    return EARLIEST <= when < LATEST and when.astimezone(SHANGHAI).year > 0


def refused(exc: WebhookError) -> bool:
    return exc.status == 400 and "time" in exc.reason


@given(NAIVE)
def test_any_beijing_time_text_is_usable_or_400(naive: datetime) -> None:
    try:
        assert usable(china_time(naive.strftime("%Y-%m-%d %H:%M:%S").zfill(19), "SendTime"))
    except WebhookError as exc:
        assert refused(exc)


@given(st.integers(min_value=-10**20, max_value=10**20))
def test_any_unix_seconds_are_usable_or_400(seconds: int) -> None:
    try:
        assert usable(epoch_time(str(seconds), "ts"))
    except WebhookError as exc:
        assert refused(exc)


@given(NAIVE, OFFSETS)
def test_any_received_at_is_usable_or_400(naive: datetime, zone: timezone) -> None:
    body = json.dumps([{"id": "t1", "from": "13800001111", "text": "BZ",
                        "received_at": naive.replace(tzinfo=zone).isoformat()}]).encode()
    request = WebhookRequest("POST", "/memory/in", {}, {}, body, url="http://memory.invalid/memory/in")
    try:
        [sms] = jsonhooks.parse_inbound(request)
    except WebhookError as exc:
        assert exc.status == 400 and "received_at" in exc.reason
        return
    assert sms.received_at is not None and usable(sms.received_at)


def test_year_one_in_beijing_time_is_400_not_an_overflow() -> None:
    with pytest.raises(WebhookError) as info:
        china_time("0001-01-01 00:00:00", "SendTime")
    assert refused(info.value)
