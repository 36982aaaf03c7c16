"""The store's time text: every aware time writes as sortable UTC text that reads back as the same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.clock import from_db, to_db

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-11, minutes=-30))])
# hypothesis takes naive bounds and attaches the zones itself
TIMES = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30), timezones=ZONES)  # noqa: DTZ001


@given(TIMES)
def test_a_time_reads_back_as_the_same_instant(when: datetime) -> None:
    assert from_db(to_db(when)) == when


@given(TIMES, TIMES)
def test_the_text_sorts_as_the_times_do(a: datetime, b: datetime) -> None:
    assert (to_db(a) < to_db(b)) == (a < b)


def test_an_old_year_keeps_four_digits() -> None:
    # strftime wrote "999-01-01...": it sorted after 2026 and no longer read back
    assert to_db(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"
    assert to_db(datetime(2026, 12, 1, 21, 30, tzinfo=timezone(timedelta(hours=8)))) == "2026-12-01T13:30:00.000000Z"
