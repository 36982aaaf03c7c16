"""Per-phone limits on binding codes: each code is a paid SMS to someone's phone, asked for by
whoever holds an openid. At most `per_minute` in any minute, `per_hour` in any hour and
`per_day` in any 24 hours reach one phone, however many openids ask.

Codes are not held for quiet hours: someone binding at night wants the code now, and the limits
(not the hour) are what keep the binding form from being a tool to flood a phone at 2 a.m.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PhoneLimits:
    """How many codes one phone may get per minute, per hour and per 24 hours."""

    per_minute: int = 1
    per_hour: int = 5
    per_day: int = 10

    def windows(self) -> tuple[tuple[timedelta, int], ...]:
        """(window, most codes in it), shortest first."""
        return ((timedelta(minutes=1), self.per_minute), (timedelta(hours=1), self.per_hour), (DAY, self.per_day))


def phone_wait(asked: Sequence[datetime], now: datetime, limits: PhoneLimits) -> timedelta | None:
    """How long until this phone may get another code, given when codes were asked (sorted); None: now."""
    wait = timedelta(0)
    for window, most in limits.windows():
        recent = [at for at in asked if at > now - window]
        if len(recent) >= most:
            wait = max(wait, recent[len(recent) - most] + window - now)   # when the oldest that counts ages out
    return wait if wait > timedelta(0) else None


def wait_text(wait: timedelta) -> str:
    """A wait for the refusal: '1分钟', '45分钟', '3小时' (rounded up, never '0')."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"{minutes}分钟" if minutes < 60 else f"{math.ceil(minutes / 60)}小时"
