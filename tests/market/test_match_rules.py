"""How many counterparties are stored and told, and in what order the farmer sees them (issue 5):
every match up to `max_matches_stored` is stored and each counterparty told once (SMS or digest);
counts agree in the reply, WD and WD n; WD n keeps the reply's order and numbers; a pair of users
is told once in either direction; a buyer's plain price is no filter, an explicit maximum is;
within a day quantity fit ranks; a sixth product in one message is not dropped silently."""

from __future__ import annotations

from dataclasses import replace

from farmer_mailbox import text as understanding
from tests.market.conftest import CHEN, HU, MA, SHEN, XU, YANG, Market, MarketFactory


async def _evening(market: Market) -> dict[str, list[str]]:
    """20:30 in 慈溪 the same day: the digest runs."""
    market.clock.set(market.clock.now().replace(hour=12, minute=30))
    await market.upkeep()
    return await market.flush()


async def test_every_seller_is_stored_and_told_once_by_sms_or_digest(make_market: MarketFactory) -> None:
    market = await make_market(matching={"notify_limit": 10})
    sellers = await market.farmers(12)
    for i, phone in enumerate(sellers):
        await market.sms(phone, f"卖葡萄苗{1000 + i}株")
    got = await market.sms(YANG, "买葡萄苗2000株")
    assert got[YANG][0].startswith("求购葡萄苗2000株已登记(编号13)。匹配12条:1.龙山镇杨高村 葡萄苗1011株;")
    told = {phone for phone in sellers if got.get(phone)}
    assert told == set(sellers[2:])                         # the best ten now (the closest quantities)
    assert all(got[phone] == ["有人求购葡萄苗2000株(龙山镇杨高村),回LX1取联系方式,回HF1+内容留言。"] for phone in told)
    assert await market.one(YANG, "WD") == "您的信息:13求购葡萄苗2000株(12条匹配)。回WD+编号看匹配,CX+编号撤销。"
    listed = await market.one(YANG, "WD 13")
    assert listed.startswith("编号13的匹配:1.龙山镇杨高村 葡萄苗1011株;2.龙山镇杨高村 葡萄苗1010株;")
    shown = listed.count("葡萄苗")
    assert f"等{12 - shown}条。" in listed
    evening = await _evening(market)
    assert {phone: texts for phone, texts in evening.items()} == {
        sellers[0]: ["您还有1条新匹配未逐条发送,回WD查看。"], sellers[1]: ["您还有1条新匹配未逐条发送,回WD查看。"]}
    assert await market.one(sellers[0], "WD 1") == "编号1的匹配:1.龙山镇杨高村 葡萄苗2000株。回LX+序号取联系方式"


async def test_beyond_the_stored_bound_the_count_says_more(make_market: MarketFactory) -> None:
    market = await make_market(matching={"max_matches_stored": 4, "notify_limit": 2})
    sellers = await market.farmers(6)
    for i, phone in enumerate(sellers):
        await market.sms(phone, f"卖葡萄苗{1000 + i}株")
    got = await market.sms(YANG, "买葡萄苗2000株")
    assert "匹配4+条:" in got[YANG][0]
    assert sum(1 for phone in sellers if got.get(phone)) == 2
    assert await market.one(YANG, "WD") == "您的信息:7求购葡萄苗2000株(4+条匹配)。回WD+编号看匹配,CX+编号撤销。"
    assert (await market.one(YANG, "WD 7")).count("葡萄苗") == 4
    evening = await _evening(market)
    assert len(evening) == 2                               # the other two stored are folded; the last two not stored
    await market.sms(sellers[2], "CX 3")
    assert "(3+条匹配)" in await market.one(YANG, "WD")   # what WD n can still list, and more exist


async def test_wd_n_lists_in_the_replys_order_under_the_same_numbers(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")       # 横河镇: same county
    await market.sms(XU, "卖葡萄苗3000株")         # 山下村: same town
    await market.sms(SHEN, "卖葡萄苗800株")        # 山下村
    await market.sms(HU, "卖葡萄苗2500株")         # 横河镇
    reply = await market.one(YANG, "买葡萄苗2000株")
    assert reply == ("求购葡萄苗2000株已登记(编号5)。匹配4条:1.龙山镇山下村 葡萄苗3000株;2.龙山镇山下村 葡萄苗800株;"
                     "3.横河镇大山村 葡萄苗2500株。回LX+序号取联系方式")
    assert await market.one(YANG, "WD 5") == (
        "编号5的匹配:1.龙山镇山下村 葡萄苗3000株;2.龙山镇山下村 葡萄苗800株;3.横河镇大山村 葡萄苗2500株;"
        "4.横河镇子陵村 葡萄苗5000株。回LX+序号取联系方式")
    got = await market.sms(YANG, "LX4")
    assert got[CHEN][0].startswith("有人想联系您(求购葡萄苗2000株")


async def test_a_pair_is_told_once_whoever_posts_again(market: Market) -> None:
    await market.sms(YANG, "买葡萄苗2000株")
    got = await market.sms(CHEN, "卖葡萄苗5000株")          # YANG is told about CHEN
    assert got[YANG] == ["有人出售葡萄苗5000株(横河镇子陵村),回LX1取联系方式,回HF1+内容留言。"]
    got = await market.sms(YANG, "买葡萄苗500株")           # the buyer posts again: CHEN is not told
    assert set(got) == {YANG} and "匹配1条" in got[YANG][0]
    got = await market.sms(CHEN, "卖葡萄苗100株")           # the seller posts again: YANG is not told
    assert set(got) == {CHEN}
    await market.sms(CHEN, "卖玉米1000斤")
    got = await market.sms(YANG, "买玉米")                   # another product: a new pair
    assert got[CHEN] == ["有人求购玉米(龙山镇杨高村),回LX4取联系方式,回HF4+内容留言。"]   # 1-3: 葡萄苗


async def test_a_buyers_plain_price_is_shown_not_a_filter(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗2000株5元一株")
    await market.sms(HU, "卖葡萄苗2000株3元一株")
    got = await market.sms(YANG, "求购葡萄苗2000株 3元一株")
    assert got[YANG][0].startswith("求购葡萄苗2000株3元/株已登记(编号3)。匹配2条:")
    assert "葡萄苗2000株5元/株" in got[YANG][0] and CHEN in got and HU in got


async def test_a_buyers_maximum_filters_and_is_confirmed(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗2000株5元一株")
    await market.sms(HU, "卖葡萄苗2000株3元一株")
    read = understanding.parse("求购葡萄苗2000株")
    ceiling = replace(read, postings=(replace(read.postings[0], price=None, price_max=4.0, price_unit="元/株"),))
    got = await market.post_parsed(XU, ceiling)
    assert got[XU] == ["求购葡萄苗2000株4元/株以内已登记(编号3)。匹配1条:1.横河镇大山村 葡萄苗2000株3元/株。"
                       "回LX+序号取联系方式"]
    assert got[HU] == ["有人求购葡萄苗2000株4元/株以内(龙山镇山下村),回LX1取联系方式,回HF1+内容留言。"]
    assert CHEN not in got
    got = await market.sms(MA, "卖葡萄苗100株6元一株")      # a dearer seller later: the buyer is not told
    assert XU not in got
    assert await market.one(XU, "WD") == "您的信息:3求购葡萄苗2000株4元/株以内(1条匹配)。回WD+编号看匹配,CX+编号撤销。"


async def test_within_a_day_the_better_quantity_comes_first(market: Market) -> None:
    await market.sms(XU, "卖葡萄苗2000株")           # 10:00, fits the buyer exactly
    market.later(hours=3)
    await market.sms(SHEN, "卖葡萄苗100株")          # 13:00 the same day, same village, a poor fit
    reply = await market.one(YANG, "买葡萄苗2000株")
    assert "1.龙山镇山下村 葡萄苗2000株;2.龙山镇山下村 葡萄苗100株" in reply
    market.later(days=1)
    await market.sms(SHEN, "卖葡萄苗50株")           # the next day: newer days come first, whatever the fit
    reply = await market.one(MA, "买葡萄苗2000株")
    assert "1.龙山镇山下村 葡萄苗50株;2.龙山镇山下村 葡萄苗2000株;3.龙山镇山下村 葡萄苗100株" in reply


async def test_a_sixth_product_is_not_dropped_silently(market: Market) -> None:
    reply = await market.one(CHEN, "卖土鸡蛋300斤,卖鸭蛋200斤,卖鹅蛋100斤,卖稻谷5000斤,卖玉米3000斤,卖小麦2000斤")
    assert reply.startswith("已登记前5条:编号1出售鸡蛋300斤;编号2出售鸭蛋200斤;")
    assert reply.endswith("。每条短信最多5种产品,其余请另发。")
    assert await market.runtime.services.store.count_postings("open") == 5
