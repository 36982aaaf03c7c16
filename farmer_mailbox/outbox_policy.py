"""Pure rules of the outbox: priorities, quiet hours, backoff, failover and per-recipient caps.

Kept apart from the dispatcher so each rule is a plain function tested without I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# Replies and urgent alerts go first and even in quiet hours; match notices next; bulk alerts last.
PRIORITY_NOW, PRIORITY_MATCH, PRIORITY_BULK = 0, 1, 2


def priority_for(purpose: str, urgent: bool) -> int:
    """The dispatch priority of a message kind."""
    if urgent or purpose == "reply":
        return PRIORITY_NOW
    return PRIORITY_MATCH if purpose == "match" else PRIORITY_BULK


def parse_hhmm(text: str) -> time:
    """Turn 'HH:MM' into a time of day."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A nightly window (local time) in which non-urgent messages wait; may cross midnight."""

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, when: datetime) -> bool:
        """True when `when` falls inside the window."""
        local = when.astimezone(self.zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, when: datetime) -> datetime:
        """The first moment at or after `when` that is outside the window."""
        if not self.contains(when):
            return when
        local = when.astimezone(self.zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(when.tzinfo)


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential with 'equal jitter', capped."""
    ceiling = min(cap, base * 2.0 ** min(max(attempts - 1, 0), 60))
    jitter = float((rng or random.Random()).uniform(0, ceiling / 2))
    return ceiling / 2 + jitter


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """After a retryable error: which gateway in the route to use next, and when."""

    route_index: int
    delay: float


def plan_retry(route_index: int, route_length: int, attempts: int, base: float, cap: float,
               rng: random.Random | None = None) -> RetryPlan:
    """Fail over to the next gateway at once; after the last one, back off on the first."""
    if route_index + 1 < route_length:
        return RetryPlan(route_index + 1, 0.0)
    return RetryPlan(0, backoff_delay(attempts, base, cap, rng))


def local_day_start(when: datetime, zone: ZoneInfo) -> datetime:
    """Midnight (local) of the day `when` falls in, as an aware datetime in `when`'s zone."""
    local = when.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(when.tzinfo)


def cap_delay(now: datetime, sent_hour: int, sent_day: int, per_hour: int, per_day: int,
              zone: ZoneInfo, day_opens: time = time(7, 0)) -> datetime | None:
    """When a capped recipient may get the next bulk message, or None when under both caps.

    Over the daily cap: the next local day at `day_opens` (the end of quiet hours).
    """
    if sent_day >= per_day:
        tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
        return datetime.combine(tomorrow, day_opens, zone).astimezone(now.tzinfo)
    if sent_hour >= per_hour:
        return now + timedelta(hours=1)
    return None
