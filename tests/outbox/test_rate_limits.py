"""Per-gateway rate limits: the token bucket itself, and replies that overtake bulk on a slow gateway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from farmer_mailbox.ratelimit import TokenBucket
from tests.outbox.conftest import Rig


class FakeTime:
    """A monotonic clock that only moves when the bucket sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def _times(bucket: TokenBucket, clock: FakeTime, count: int) -> list[float]:
    stamps = []
    for _ in range(count):
        await bucket.acquire()
        stamps.append(round(clock.now, 6))
    return stamps


async def test_a_bucket_lets_a_burst_through_then_paces_at_its_rate() -> None:
    clock = FakeTime()
    bucket = TokenBucket(4, monotonic=clock.monotonic, sleep=clock.sleep)
    assert await _times(bucket, clock, 6) == [0, 0, 0, 0, 0.25, 0.5]


async def test_an_idle_bucket_refills_but_never_beyond_its_burst() -> None:
    clock = FakeTime()
    bucket = TokenBucket(2, burst=3, monotonic=clock.monotonic, sleep=clock.sleep)
    await _times(bucket, clock, 3)
    clock.now += 100.0                                     # a long pause earns only `burst` tokens
    start = clock.now
    stamps = await _times(bucket, clock, 5)
    assert [round(t - start, 6) for t in stamps] == [0, 0, 0, 0.5, 1.0]


async def test_a_slow_rate_below_one_per_second_still_allows_one_at_once() -> None:
    clock = FakeTime()
    bucket = TokenBucket(0.5, monotonic=clock.monotonic, sleep=clock.sleep)
    assert await _times(bucket, clock, 3) == [0, 2.0, 4.0]


async def test_rate_zero_never_waits() -> None:
    clock = FakeTime()
    bucket = TokenBucket(0, monotonic=clock.monotonic, sleep=clock.sleep)
    await _times(bucket, clock, 1000)
    assert clock.sleeps == []


async def test_concurrent_waiters_share_the_rate() -> None:
    clock = FakeTime()
    bucket = TokenBucket(10, burst=1, monotonic=clock.monotonic, sleep=clock.sleep)
    await asyncio.gather(*(bucket.acquire() for _ in range(11)))
    assert round(clock.now, 6) == 1.0                      # 1 at once, then 10 more at 10/s


async def test_the_outbox_keeps_a_gateway_under_its_rate(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(primary={"rate_per_second": 20})
    await rig.outbox.send_now(*(rig.msg(f"r{i}", to=f"1390000{i:04d}") for i in range(30)))
    started = time.monotonic()
    await rig.outbox.drain()
    elapsed = time.monotonic() - started
    assert len(rig.primary.sent) == 30
    assert elapsed >= 0.45                                 # 20 at once (the burst), 10 more at 20/s


async def test_a_reply_overtakes_bulk_already_waiting_on_a_slow_gateway(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(primary={"rate_per_second": 10}, batch_size=50)
    await rig.outbox.send_now(*(rig.msg(f"a{i}", to=f"1390000{i:04d}", purpose="alert") for i in range(30)))
    draining = asyncio.create_task(rig.outbox.drain())
    await asyncio.sleep(0.15)                              # the burst is out, bulk is being paced
    await rig.outbox.send_now(rig.msg("reply", to="13911112222"))
    await draining
    order = [s.idempotency_key for s in rig.primary.sent]
    assert len(order) == 31
    # Claims are sized to what 10/s sends in a second: the reply waits for at most one more
    # claimed batch, not for the 30 bulk rows a 50-row claim would have taken.
    assert order.index("reply") <= 20


def test_claims_are_sized_by_the_slowest_rate_limited_gateway(make_rig: Callable[..., Rig]) -> None:
    assert make_rig(batch_size=200).outbox.router.claim_size(200) == 200       # no limit: as configured
    assert make_rig(primary={"rate_per_second": 4}).outbox.router.claim_size(200) == 4
    assert make_rig(primary={"rate_per_second": 0.2}).outbox.router.claim_size(200) == 1
    assert make_rig(primary={"rate_per_second": 500}).outbox.router.claim_size(200) == 200
