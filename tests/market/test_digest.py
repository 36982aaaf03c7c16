"""The digest of match notices folded by the caps: one a day per user at digest time, every folded
notice reported exactly once, a digest the service missed sent the next time it can be (outside
quiet hours)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.market.conftest import CHEN, HU, MA, SHEN, XU, YANG, Market, MarketFactory

CIXI = ZoneInfo("Asia/Shanghai")


def at_local(market: Market, day: int, hhmm: str) -> None:
    """Set the clock to a local time on a day of May 2026 (the tests start on 1 May, 10:00)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    market.clock.set(datetime(2026, 5, day, hour, minute, tzinfo=CIXI))


async def capped_seller(make_market: MarketFactory) -> Market:
    """CHEN sells corn and may get one match SMS a day; YANG's notice uses it up."""
    market = await make_market(matching={"match_sms_per_day": 1})
    await market.sms(CHEN, "卖玉米5000斤")
    got = await market.sms(YANG, "收玉米2000斤")
    assert got[CHEN][0].startswith("有人求购玉米2000斤")
    return market


async def digest(market: Market) -> list[str]:
    """One housekeeping round; what CHEN got."""
    await market.upkeep()
    return (await market.flush()).get(CHEN, [])


async def test_notices_folded_after_the_digest_wait_for_the_next_one(make_market: MarketFactory) -> None:
    market = await capped_seller(make_market)
    await market.sms(XU, "收玉米1000斤")                       # folded
    at_local(market, 1, "20:00")
    assert await digest(market) == ["您还有1条新匹配未逐条发送,回WD查看。"]
    at_local(market, 1, "20:40")
    got = await market.sms(SHEN, "收玉米300斤")               # folded after the digest went out
    assert CHEN not in got
    assert await digest(market) == []                          # one digest a day
    at_local(market, 2, "12:00")
    assert await digest(market) == []                          # not before the next digest time
    at_local(market, 2, "20:00")
    assert await digest(market) == ["您还有1条新匹配未逐条发送,回WD查看。"]
    assert await digest(market) == []


async def test_a_missed_digest_goes_out_the_next_morning(make_market: MarketFactory) -> None:
    market = await capped_seller(make_market)
    await market.sms(XU, "收玉米1000斤")
    await market.sms(SHEN, "收玉米300斤")
    at_local(market, 2, "03:00")                               # the service was down all evening
    assert await digest(market) == []                          # quiet hours: not now
    at_local(market, 2, "07:05")
    assert await digest(market) == ["您还有2条新匹配未逐条发送,回WD查看。"]
    got = await market.sms(HU, "收玉米100斤")                  # the new day's own SMS
    assert got[CHEN][0].startswith("有人求购玉米100斤")
    await market.sms(MA, "收玉米100斤")                        # folded on day 2
    at_local(market, 2, "19:59")
    assert await digest(market) == []
    at_local(market, 2, "20:00")
    assert await digest(market) == ["您还有1条新匹配未逐条发送,回WD查看。"]


async def test_nothing_folded_nothing_sent(make_market: MarketFactory) -> None:
    market = await capped_seller(make_market)
    at_local(market, 1, "20:30")
    assert await digest(market) == []
    assert (await market.upkeep()).digests == 0
