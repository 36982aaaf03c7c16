"""Amounts and prices a clerk would read: units, unsaid units, ceilings, shared prices, sizes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.text import parse
from farmer_mailbox.text.models import Posting


def one(text: str) -> Posting:
    (posting,) = parse(text).postings
    return posting


@pytest.mark.parametrize(
    ("text", "quantity", "unit", "base", "base_unit"),
    [
        ("卖鸽子50对", 50, "对", 100, "只"),  # a pair is two birds
        ("卖猪仔3窝", 3, "窝", 3, "窝"),
        ("卖苹果20筐", 20, "筐", 20, "筐"),
        ("卖化肥100袋", 100, "袋", 100, "袋"),
        ("卖玉米种子50包", 50, "包", 50, "包"),
        ("卖牛粪20车", 20, "车", 20, "车"),
        ("卖谷子5担", 5, "担", 500, "斤"),
        ("卖稻草100捆", 100, "捆", 100, "捆"),
        ("卖橘子50件", 50, "件", 50, "件"),
        ("卖玫瑰1000枝", 1000, "枝", 1000, "枝"),
        ("卖玫瑰1000支", 1000, "枝", 1000, "枝"),
        ("卖葡萄200串", 200, "串", 200, "串"),
        ("出租鱼塘2口", 2, "口", 2, "口"),
    ],
)
def test_units(text: str, quantity: float, unit: str, base: float, base_unit: str) -> None:
    posting = one(text)
    assert (posting.quantity, posting.unit, posting.base_quantity, posting.base_unit) == (
        quantity, unit, base, base_unit,
    )


def test_unit_words_inside_ordinary_words_are_no_units() -> None:
    assert one("卖鸽子 对面是杨高村").quantity is None
    assert one("卖苹果 口感好").quantity is None


@pytest.mark.parametrize(
    ("text", "quantity", "unit"),
    [
        ("卖玉米两千五", 2500, "斤"),  # a spoken amount after grain: 斤, the unit farmers count in
        ("卖甘蔗一万二", 12000, "斤"),
        ("卖玉米 3千 一块二一斤", 3000, "斤"),
        ("卖葡萄苗两千", 2000, "株"),  # seedlings are counted in 株
    ],
)
def test_an_amount_said_without_a_unit(text: str, quantity: float, unit: str) -> None:
    posting = one(text)
    assert (posting.quantity, posting.unit) == (quantity, unit)


@pytest.mark.parametrize("text", ["收玉米 2400", "卖牛 一万二", "卖苹果 十", "卖玉米 第三"])
def test_bare_numbers_that_may_be_prices_are_not_amounts(text: str) -> None:
    assert one(text).quantity is None


def test_a_spoken_sum_after_a_machine_is_its_price() -> None:
    posting = one("卖收割机 久保田 二手 6万")
    assert (posting.quantity, posting.price, posting.price_unit) == (None, 60000, "元/台")


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("求购葡萄苗2000株 3元以内", 3),
        ("求购葡萄苗2000株 不超过3元", 3),
        ("求购葡萄苗2000株 最高3.5元", 3.5),
        ("求购葡萄苗2000株 3元以下", 3),
        ("求购葡萄苗2000株 每株最多3块", 3),
        ("收玉米 价格不超过1.2元一斤", 1.2),
    ],
)
def test_a_ceiling_is_price_and_price_max(text: str, price: float) -> None:
    posting = one(text)
    assert (posting.price, posting.price_max) == (price, price)


@pytest.mark.parametrize(
    "text",
    [
        "卖柑橘 3万斤 1块2到1块5", "卖柑橘 3万斤 1块2至1块5一斤", "卖柑橘 3万斤 1.2元-1.5元/斤",
        "卖柑橘 3万斤 1块2到1块5一斤",
    ],
)
def test_a_range_of_two_prices(text: str) -> None:
    posting = one(text)
    assert (posting.price, posting.price_max, posting.price_unit) == (1.2, 1.5, "元/斤")


def test_a_range_whose_top_has_jiao() -> None:
    posting = one("卖西瓜 5000斤 1块到1块2一斤")
    assert (posting.price, posting.price_max) == (1, 1.2)


def test_a_floor_said_after_the_unit() -> None:
    posting = one("收购茶叶 明前茶 每斤不低于500")
    assert (posting.price, posting.price_max, posting.price_unit) == (500, None, "元/斤")


def test_a_range_is_low_and_high_and_a_floor_is_no_ceiling() -> None:
    posting = one("收猕猴桃 3-5元一斤")
    assert (posting.price, posting.price_max, posting.price_unit) == (3, 5, "元/斤")
    posting = one("卖葡萄苗 3元以上")
    assert (posting.price, posting.price_max) == (3, None)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 99), st.integers(0, 9), st.sampled_from(["以内", "以下"]))
def test_any_ceiling(whole: int, tenth: int, word: str) -> None:
    value = whole + tenth / 10
    posting = one(f"求购葡萄苗2000株 {value:g}元{word}")
    assert (posting.price, posting.price_max, posting.price_unit) == (value, value, "元/株")


@pytest.mark.parametrize(
    "text",
    ["卖苹果1000斤 梨500斤 每斤都是2元", "卖苹果1000斤 梨500斤 均为2元一斤", "卖苹果1000斤 梨500斤 一律2元/斤"],
)
def test_a_price_said_for_all(text: str) -> None:
    assert [(p.product, p.price, p.price_unit) for p in parse(text).postings] == [
        ("苹果", 2, "元/斤"), ("梨", 2, "元/斤"),
    ]


def test_each_product_keeps_its_own_price() -> None:
    result = parse("卖鸡蛋500斤2元/斤 鸭蛋300斤3元/斤")
    assert [p.price for p in result.postings] == [2, 3]


@pytest.mark.parametrize(
    ("text", "quantity", "unit"),
    [
        ("卖仔猪 40斤左右的 15头", 15, "头"),  # the size of each piglet
        ("卖猪肉 一头猪的肉 300斤 18元/斤", 300, "斤"),  # 一头 is an article here
        ("卖苹果 5元一斤 10斤起卖", None, None),  # the least one sells
        ("卖猕猴桃 一箱10斤 80元一箱", None, None),  # the size of a box
        ("卖西瓜 一个十来斤 2元一斤", None, None),  # the size of a melon
        ("有三七出售 20头的 价格面议", None, None),  # a grade, not twenty animals
        ("本人有一台收割机 想帮人收割 每亩70", None, None),  # the means of a service
        ("卖鸡蛋 5块/斤 起订100斤", None, None),  # the least order
        ("收购玉米 10吨起", 10, "吨"),  # a buyer's "at least" is what he wants
        ("卖猪肉 一头 300斤", 300, "斤"),  # a whole pig of 300斤
    ],
)
def test_sizes_and_minimums_are_no_amounts(text: str, quantity: float | None, unit: str | None) -> None:
    posting = one(text)
    assert (posting.quantity, posting.unit) == (quantity, unit)


def test_a_total_of_several_is_nobodys_amount() -> None:
    result = parse("卖鱼 鲢鱼 鳙鱼 草鱼 都有 一共2万斤")
    assert [p.quantity for p in result.postings] == [None, None, None]


@pytest.mark.parametrize(
    ("text", "quality"),
    [
        ("卖土豆 1.5元/公斤 2000公斤", ()),
        ("卖土豆种 500斤", ()),
        ("卖土鸡蛋100斤", ("土",)),
        ("卖土猪肉100斤", ("土",)),
        ("卖野生甲鱼10只", ("野生",)),
    ],
)
def test_quality_only_when_not_part_of_a_name(text: str, quality: tuple[str, ...]) -> None:
    assert one(text).quality == quality


@pytest.mark.parametrize(
    ("text", "product", "category"),
    [
        ("求购玉米苗5万株", "玉米苗", "苗木种子"),
        ("卖韭菜苗1万株", "蔬菜苗", "苗木种子"),  # no 韭菜苗 in the lexicon: its family
        ("仔猪饲料5吨求购", "猪饲料", "农资"),
        ("卖猪仔料2吨", "猪饲料", "农资"),
        ("卖肉鸡饲料3吨", "鸡饲料", "农资"),
        ("卖草鱼料2吨", "鱼饲料", "农资"),
        ("卖兔苗200只", "兔苗", "畜禽"),
        ("卖幼兔100只", "兔苗", "畜禽"),
        ("卖小驴3头", "驴驹", "畜禽"),
        ("卖马驹2匹", "马驹", "畜禽"),
        ("卖鹌鹑苗1000只", "鹌鹑苗", "畜禽"),
    ],
)
def test_compounds_and_young_animals(text: str, product: str, category: str) -> None:
    posting = one(text)
    assert (posting.product, posting.category) == (product, category)


def test_seedling_quantity_goes_to_the_seedling() -> None:
    posting = one("求购玉米苗5万株")
    assert (posting.quantity, posting.unit) == (50000, "株")
