"""A token bucket for asyncio: keeps each gateway under its configured messages per second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_EPSILON = 1e-9


class TokenBucket:
    """Allows `rate` acquisitions per second on average, with bursts up to `burst`; 0 = unlimited.

    `monotonic` and `sleep` are the clock and the wait (injectable, so tests need not sleep).
    Waiters are served in arrival order.
    """

    def __init__(self, rate: float, burst: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._tokens = self.burst
        self._now = monotonic
        self._sleep = sleep
        self._last = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self) -> None:
        """Wait until one message may go."""
        if self.rate <= 0:
            return
        async with self._lock:
            self._refill()
            while self._tokens < 1 - _EPSILON:   # float rounding must not leave it waiting forever
                await self._sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1
