"""The other commands a farmer sends around the marketplace: BZ, DY, TQ, W, JG without a product,
questions about what is on offer, and text the mailbox cannot read."""

from __future__ import annotations

from tests.market.conftest import CHEN, HU, YANG, Market


async def test_help_and_unknown_text_fit_one_segment(market: Market) -> None:
    assert (await market.one(YANG, "BZ")).startswith("发“卖/买+产品+数量+价格”登记供求")
    assert (await market.one(YANG, "你好啊")).startswith("没看懂您的短信")


async def test_dy_follows_products_by_their_canonical_names(market: Market) -> None:
    assert await market.one(HU, "DY 苞谷 葡萄") == "已关注:玉米、葡萄。有相关植保、天气和市场信息会短信告诉您。"
    user = await market.runtime.services.store.user_by_phone(HU)
    assert user is not None and {"玉米", "葡萄"} <= set(user.interests)
    assert await market.one(HU, "DY 你好") == "关注品种请发DY+品种,如:DY 水稻 葡萄。"


async def test_tq_switches_the_evening_forecast(market: Market) -> None:
    assert (await market.one(YANG, "TQ 开")).startswith("已开通每日天气预报")
    assert await market.runtime.services.store.forecast_optin((await market.runtime.services.store.user_by_phone(
        YANG)).id)  # type: ignore[union-attr]
    assert await market.one(YANG, "TQ 关") == "已停止发送每日天气预报。"


async def test_questions_are_put_on_record_with_an_honest_answer(market: Market) -> None:
    reply = await market.one(CHEN, "W 葡萄叶子发黄怎么办")
    assert reply.startswith("您的问题已记录(编号") and "急事请找本村联络员" in reply
    tail = await market.runtime.services.store.record_tail(5)
    assert any(e.text == "question" for e in tail)


async def test_jg_without_a_product_explains_itself(market: Market) -> None:
    assert await market.one(YANG, "JG") == "查价格请发JG+产品,如JG葡萄苗。"


async def test_a_sell_without_a_product_asks_for_one(market: Market) -> None:
    assert await market.one(YANG, "卖 500斤") == "没看出您要买卖什么,请写明产品和数量,如:卖土鸡蛋300斤。"
    assert await market.runtime.services.store.count_postings("open") == 0
