"""One injectable clock: the service stores UTC and shows Asia/Shanghai at the edges.

Everything that asks "what time is it" takes a `Clock`, so tests and the replay tool can
move time by hand (postings expiring, quiet hours, scheduled alerts) without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; for tests and replays."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")

    def now(self) -> datetime:
        """Return the clock's current time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to a given aware time."""
        self._now = when.astimezone(UTC)


@lru_cache(maxsize=4096)
def to_db(when: datetime) -> str:
    """Format an aware datetime as the sortable UTC text the store keeps (cached: bulk rows share times).

    isoformat, not strftime: strftime writes the year 999 as "999", which neither sorts nor reads
    back, so one message claiming to be that old stopped the inbox for everybody.
    """
    return when.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def from_db(text: str) -> datetime:
    """Parse the store's UTC text back into an aware datetime (fromisoformat: C, ~20x strptime)."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"time {text!r} from the store has no zone")
    return when


def local(when: datetime, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Show an aware datetime in the service's local zone (Asia/Shanghai by default)."""
    return when.astimezone(zone)
