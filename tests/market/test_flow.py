"""The farmer's experience of issue 5, step by step, through the real inbound path (memory gateway)."""

from __future__ import annotations

from tests.market.conftest import CHEN, HU, MA, SHEN, STRANGER, XU, YANG, Market, MarketFactory


async def test_buyer_gets_numbered_matches_and_sellers_are_told(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株 每株3元")
    got = await market.sms(YANG, "求购优质葡萄苗2000株")
    assert got[YANG] == ["求购葡萄苗2000株已登记(编号2)。匹配1条:1.横河镇子陵村 葡萄苗5000株3元/株。"
                         "回LX+序号取联系方式"]
    assert got[CHEN] == ["有人求购葡萄苗2000株(龙山镇杨高村),回LX1取联系方式,回HF1+内容留言。"]
    assert set(got) == {YANG, CHEN}


async def test_a_posting_without_counterparties_says_it_is_registered(market: Market) -> None:
    reply = await market.one(HU, "有土鸡蛋300斤出售1块5一斤")
    assert reply == "出售鸡蛋300斤1.5元/斤已登记(编号1),30天有效。有匹配时会短信告诉您。"


async def test_nearest_sellers_come_first(market: Market) -> None:
    await market.sms(XU, "卖葡萄苗3000株")        # 山下村, same town as 杨高村
    await market.sms(CHEN, "卖葡萄苗5000株")      # 横河镇, same county
    reply = await market.one(YANG, "买葡萄苗2000株")
    assert reply.index("1.龙山镇山下村") < reply.index("2.横河镇子陵村")


async def test_consent_mode_reveals_numbers_only_after_yes(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(YANG, "求购葡萄苗2000株")
    got = await market.sms(YANG, "LX1")
    assert got[YANG] == ["已请对方同意,同意后把电话发给您。也可回HF1+内容留言。"]
    assert got[CHEN] == ["有人想联系您(求购葡萄苗2000株,龙山镇杨高村),回Y1同意交换电话,回N1拒绝。"]
    assert all(YANG not in text for text in got[CHEN])
    got = await market.sms(CHEN, "Y")
    assert any("杨德福" in t and YANG in t for t in got[CHEN])
    assert any("陈阿毛" in t and CHEN in t for t in got[YANG])


async def test_a_declined_request_shares_nothing(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(YANG, "求购葡萄苗2000株")
    await market.sms(YANG, "LX1")
    got = await market.sms(CHEN, "N1")
    assert got[CHEN] == ["已拒绝,不会把您的电话给对方。"]
    assert got[YANG] == ["对方暂不方便留电话,可回HF1+内容留言。"]
    assert CHEN not in "".join(market.inbox[YANG])


async def test_direct_mode_shows_numbers_at_once(make_market: MarketFactory) -> None:
    market = await make_market(matching={"privacy_mode": "direct"})
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(YANG, "求购葡萄苗2000株")
    got = await market.sms(YANG, "LX1")
    assert CHEN in got[YANG][0] and YANG in got[CHEN][0]


async def test_relay_passes_a_message_without_numbers(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(YANG, "求购葡萄苗2000株")
    got = await market.sms(YANG, "HF1 明天来看苗")
    assert got[CHEN] == ["序号1对方留言:明天来看苗(回HF1+内容回复)"]
    assert got[YANG] == ["留言已转给对方。"]
    got = await market.sms(CHEN, "HF1 好的,上午在家")
    assert got[YANG] == ["序号1对方留言:好的,上午在家(回HF1+内容回复)"]
    assert YANG not in "".join(market.inbox[CHEN]) and CHEN not in "".join(market.inbox[YANG])


async def test_unknown_numbers_get_a_pointer_to_wd(market: Market) -> None:
    assert await market.one(YANG, "LX7") == "没有序号7的匹配,回WD查看。"


async def test_wd_lists_open_postings_and_their_matches(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株3元一株")
    await market.sms(YANG, "求购葡萄苗2000株")
    await market.sms(YANG, "买鸡蛋100斤")
    reply = await market.one(YANG, "WD")
    assert reply == "您的信息:3求购鸡蛋100斤(0条匹配);2求购葡萄苗2000株(1条匹配)。回WD+编号看匹配,CX+编号撤销。"
    assert await market.one(YANG, "WD 2") == "编号2的匹配:1.横河镇子陵村 葡萄苗5000株3元/株。回LX+序号取联系方式"


async def test_cx_cancels_and_the_posting_is_no_longer_matched(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    assert await market.one(CHEN, "CX 1") == "已撤销编号1:出售葡萄苗5000株。"
    got = await market.sms(YANG, "买葡萄苗2000株")
    assert got[YANG][0].endswith("有匹配时会短信告诉您。")
    assert CHEN not in got
    assert await market.one(YANG, "CX 1") == "没有找到您的编号1信息,回WD查看。"


async def test_cx_with_several_numbers_cancels_each_and_names_the_unknown(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(CHEN, "卖鸡蛋300斤")
    await market.sms(YANG, "买鸡蛋100斤")
    assert await market.one(CHEN, "CX 1 2 3") == "已撤销编号1、2。没有找到编号3,回WD查看。"
    assert await market.one(CHEN, "WD") == "您目前没有登记中的信息。发“卖/买+产品+数量”即可登记。"
    got = await market.sms(YANG, "买葡萄苗2000株")
    assert CHEN not in got
    assert await market.one(CHEN, "CX 1 2") == "没有找到您的编号1、2信息,回WD查看。"


async def test_postings_expire_after_a_reminder_that_xq_answers(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(HU, "卖鸡蛋300斤")
    market.later(days=28, hours=1)
    assert (await market.upkeep()).reminded == 2
    got = await market.flush()
    assert got[CHEN] == ["您的出售葡萄苗5000株(编号1)5月31日到期,回XQ1续期30天。"]
    assert await market.one(CHEN, "XQ1") == "已续期编号1至6月28日。"
    market.later(days=2)
    assert (await market.upkeep()).expired == 1          # 鸡蛋 expired, 葡萄苗 was renewed
    assert await market.one(HU, "WD") == "您目前没有登记中的信息。发“卖/买+产品+数量”即可登记。"
    got = await market.sms(YANG, "买鸡蛋")
    assert HU not in got
    got = await market.sms(YANG, "买葡萄苗")
    assert CHEN in got


async def test_same_pair_is_told_once_and_caps_fold_into_a_digest(make_market: MarketFactory) -> None:
    market = await make_market(matching={"match_sms_per_day": 2})
    await market.sms(CHEN, "卖玉米5000斤")
    await market.sms(YANG, "收玉米2000斤")
    got = await market.sms(YANG, "收包谷3000斤")           # same pair, same product: not again
    assert CHEN not in got
    for buyer in (XU, SHEN, MA):
        await market.sms(buyer, "收玉米1000斤")
    notices = [t for t in market.inbox[CHEN] if t.startswith("有人求购")]
    assert len(notices) == 2
    market.clock.set(market.clock.now().replace(hour=12, minute=30))   # 20:30 in 慈溪
    assert (await market.upkeep()).digests == 1
    got = await market.flush()
    assert got[CHEN] == ["您还有2条新匹配未逐条发送,回WD查看。"]


async def test_jg_gives_county_and_city_medians(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株 每株3元")
    await market.sms(XU, "卖葡萄苗1000株 每株4元")
    await market.sms(HU, "卖葡萄苗1000株 每株5元")
    await market.sms(MA, "收葡萄苗 每株2元")
    reply = await market.one(YANG, "JG 葡萄苗")
    assert reply == "葡萄苗近30天:本县卖价4元/株(3条)买价2元/株(1条);本市卖价4元/株(3条)买价2元/株(1条)。"
    assert await market.one(YANG, "JG 西瓜") == "近30天本市没有西瓜的报价。"


async def test_a_general_buyer_word_covers_specific_sellers_but_not_across(market: Market) -> None:
    await market.sms(CHEN, "卖尿素20袋")
    await market.sms(HU, "卖鸡蛋300斤")
    assert "尿素" in await market.one(YANG, "买化肥")
    assert "鸡蛋" not in await market.one(YANG, "买鸡苗500只")


async def test_unregistered_phones_post_nothing(market: Market) -> None:
    reply = await market.one(STRANGER, "卖葡萄苗5000株")
    assert reply == "您的手机号尚未登记。请带身份证到本村联络点实名登记后再发短信。"
    got = await market.sms(YANG, "买葡萄苗")
    assert STRANGER not in got and "已登记(编号1)" in got[YANG][0]


async def test_opted_out_farmers_get_only_the_confirmation(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    assert await market.one(CHEN, "TD") == "已退订农民信箱短信。如需恢复,请联系本村联络点。"
    got = await market.sms(YANG, "买葡萄苗")
    assert CHEN not in got                       # the opted-out farmer's posting was closed
    got = await market.sms(CHEN, "卖葡萄苗100株")
    assert got[CHEN] == ["已退订农民信箱短信。如需恢复,请联系本村联络点。"]
    assert await market.runtime.services.store.count_postings("open") == 1


async def test_suspended_farmers_post_nothing(market: Market) -> None:
    accounts = market.runtime.services.accounts
    operator = await accounts.actor_for(None, __import__("farmer_mailbox.models").models.Channel.CLI)
    await accounts.update(operator, CHEN, status="suspended")
    assert await market.one(CHEN, "卖葡萄苗5000株") == "您的账号已暂停,信息未发布。如有疑问请联系本村联络点。"
    assert await market.runtime.services.store.count_postings("open") == 0


async def test_postings_survive_a_restart(make_market: MarketFactory) -> None:
    first = await make_market()
    await first.sms(CHEN, "卖葡萄苗5000株")
    await first.runtime.stop()
    second = await make_market()
    assert len(second.runtime.market.book.index) == 1
    got = await second.sms(YANG, "买葡萄苗")
    assert CHEN in got
