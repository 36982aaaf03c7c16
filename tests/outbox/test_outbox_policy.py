"""Pure outbox rules: priorities, quiet hours across midnight, backoff with jitter, caps."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.outbox_policy import (
    QuietHours,
    backoff_delay,
    cap_delay,
    parse_hhmm,
    plan_retry,
    priority_for,
)

SH = ZoneInfo("Asia/Shanghai")
QUIET = QuietHours(parse_hhmm("21:00"), parse_hhmm("07:00"), SH)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(("hour", "minute", "quiet"), [
    (20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (6, 59, True), (7, 0, False), (12, 0, False),
])
def test_quiet_hours_cross_midnight_in_local_time(hour: int, minute: int, quiet: bool) -> None:
    assert QUIET.contains(at(hour, minute)) is quiet


def test_quiet_hours_end_next_morning() -> None:
    assert QUIET.next_end(at(22)) == at(7, day=2)
    assert QUIET.next_end(at(3)) == at(7)
    assert QUIET.next_end(at(12)) == at(12)


def test_replies_and_urgent_alerts_come_first() -> None:
    assert priority_for("reply", False) == priority_for("alert", True) == 0
    assert priority_for("match", False) < priority_for("alert", False)


@given(st.integers(min_value=1, max_value=200))
def test_backoff_grows_and_stays_within_the_cap(attempts: int) -> None:
    delay = backoff_delay(attempts, 5, 900, random.Random(attempts))
    ceiling = min(900, 5 * 2 ** min(attempts - 1, 60))
    assert ceiling / 2 <= delay <= ceiling


def test_retry_fails_over_before_backing_off() -> None:
    assert plan_retry(0, 3, 1, 5, 900).route_index == 1
    assert plan_retry(1, 3, 1, 5, 900).delay == 0
    last = plan_retry(2, 3, 3, 5, 900, random.Random(1))
    assert last.route_index == 0 and 10 <= last.delay <= 20


def test_caps_hold_back_until_the_next_hour_or_morning() -> None:
    now = at(15)
    assert cap_delay(now, 0, 0, 6, 20, SH) is None
    assert cap_delay(now, 6, 6, 6, 20, SH) == now + timedelta(hours=1)
    assert cap_delay(now, 1, 20, 6, 20, SH) == at(7, day=2)


def test_the_daily_cap_releases_at_the_configured_end_of_quiet_hours() -> None:
    assert cap_delay(at(15), 1, 20, 6, 20, SH, parse_hhmm("08:30")) == at(8, day=2).replace(minute=30)
    assert cap_delay(at(0), 0, 20, 6, 20, SH, parse_hhmm("06:00")) == at(6, day=2)   # just after midnight
