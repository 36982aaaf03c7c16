"""What a farmer sees: messages read into intent, postings, commands and phones."""

from __future__ import annotations

import pytest

from farmer_mailbox.text import Command, Location, parse
from tests.text.fake_places import FakeResolver


def only(text: str) -> dict[str, object]:
    """The single posting of a message, as JSON."""
    result = parse(text)
    assert len(result.postings) == 1, result
    return result.postings[0].to_json()


def test_issue_examples() -> None:
    grapes = parse("卖优质葡萄苗五百株每株3元 杨高村")
    assert grapes.intent == "sell"
    (posting,) = grapes.postings
    assert (posting.product, posting.category) == ("葡萄苗", "苗木种子")
    assert (posting.quantity, posting.unit) == (500, "株")
    assert (posting.price, posting.price_unit, posting.quality) == (3, "元/株", ("优质",))
    assert posting.location == Location("杨高村")
    corn = parse("收包谷两吨 价钱好商量")
    assert corn.intent == "buy"
    posting = corn.postings[0]
    assert (posting.product, posting.base_quantity, posting.base_unit) == ("玉米", 4000, "斤")
    assert corn.postings[0].price_unit == "面议"
    eggs = only("有土鸡蛋300斤出售1块5一斤")
    assert (eggs["product"], eggs["quantity"]) == ("鸡蛋", 300)
    assert (eggs["price"], eggs["price_unit"]) == (1.5, "元/斤")
    piglets = parse("求购 仔猪20头")
    assert piglets.intent == "buy" and piglets.postings[0].product == "仔猪"


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("卖葡萄500斤", "葡萄"),
        ("卖葡萄苗500株", "葡萄苗"),
        ("卖葡萄干50斤", "葡萄干"),
        ("卖鸡蛋100斤", "鸡蛋"),
        ("卖鸡苗1000只", "鸡苗"),
        ("卖土鸡20只", "土鸡"),
        ("卖猪10头", "生猪"),
        ("卖仔猪10头", "仔猪"),
        ("卖猪肉50斤", "猪肉"),
        ("卖猪饲料10袋", "猪饲料"),
        ("卖小麦5吨", "小麦"),
        ("卖麦种500斤", "麦种"),
        ("卖洋芋2吨", "马铃薯"),
        ("卖红苕1000斤", "红薯"),
        ("卖玉蜀黍1吨", "玉米"),
        ("卖百香果100斤", "百香果"),
    ],
)
def test_products_that_share_characters_stay_apart(text: str, product: str) -> None:
    assert only(text)["product"] == product


def test_one_posting_per_product_each_with_its_own_amounts() -> None:
    result = parse("卖玉米3吨 2400元一吨 买化肥2吨")
    corn, fertiliser = result.postings
    assert (corn.side, corn.quantity, corn.price, corn.price_unit) == ("sell", 3, 2400, "元/吨")
    assert (fertiliser.side, fertiliser.product) == ("buy", "化肥")
    assert (fertiliser.quantity, fertiliser.price) == (2, None)


def test_amount_glued_before_a_product_belongs_to_it() -> None:
    result = parse("出售20头仔猪 30头母猪")
    assert [(p.product, p.quantity) for p in result.postings] == [("仔猪", 20), ("母猪", 30)]


def test_price_after_a_list_prices_every_item() -> None:
    result = parse("卖辣椒苗 番茄苗 茄子苗 每株2毛")
    assert [p.price for p in result.postings] == [0.2, 0.2, 0.2]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("谁有仔猪卖", "buy"),
        ("哪里有卖鸡苗的", "query"),
        ("哪里收红薯 我有5000斤", "sell"),
        ("需要葡萄苗的联系我", "sell"),
        ("有鸭苗吗", "buy"),
        ("玉米多少钱一斤", "query"),
        ("玉米叶子发黄怎么办", "query"),
        ("你好", "other"),
        ("丰收了 谢谢", "other"),
        ("招工10人 每天150元", "buy"),
        ("找活干", "sell"),
    ],
)
def test_intents(text: str, intent: str) -> None:
    assert parse(text).intent == intent


def test_query_implies_a_command_for_the_reply() -> None:
    assert parse("玉米多少钱一斤").command == Command("price", ("玉米",))
    assert parse("柑橘黄龙病有救吗").command == Command("ask", ("柑橘黄龙病有救吗",))


def test_traditional_full_width_emoji_and_typos() -> None:
    assert only("賣雞蛋 500斤 每斤4元")["product"] == "鸡蛋"
    assert only("出售　土豆　２０００斤　１．５元／斤")["quantity"] == 2000
    assert only("🍉西瓜熟了 5000斤 1块一斤")["price"] == 1
    assert only("卖西挂三百斤")["product"] == "西瓜"
    assert only("卖yu米2吨")["product"] == "玉米"


def test_homophones_do_not_cross_categories_without_a_reason() -> None:
    assert parse("我打算明天去").postings == ()


def test_phones_are_found_and_never_read_as_amounts() -> None:
    result = parse("卖玉米 两千斤 电话 139 5741 2368 或 0574-63012345")
    assert result.phones == ("13957412368", "0574-63012345")
    assert result.postings[0].quantity == 2000


def test_quality_words_including_ones_inside_a_synonym() -> None:
    assert only("出售有机新鲜蔬菜 100斤")["quality"] == ["有机", "新鲜"]
    assert only("卖土鸡蛋100斤")["quality"] == ["土"]


def test_place_resolved_through_the_injected_resolver(places: FakeResolver) -> None:
    result = parse("卖葡萄苗五百株 横河镇杨高村", places=places, home_code="330282")
    location = result.postings[0].location
    assert location is not None
    assert (location.text, location.code, location.level) == ("横河镇杨高村", "330282101201", "village")
    assert ("杨高村", "330282") in places.asked


def test_place_known_only_by_short_name(places: FakeResolver) -> None:
    location = parse("收玉米10吨 在横河", places=places).postings[0].location
    assert location is not None and location.code == "330282101"


def test_a_failing_resolver_keeps_the_mention() -> None:
    class Broken(FakeResolver):
        def resolve(self, mention: str, home_code: str | None) -> Location | None:
            raise RuntimeError("tree unavailable")

    location = parse("卖玉米 杨高村", places=Broken()).postings[0].location
    assert location == Location("杨高村")


def test_json_shape_is_stable() -> None:
    data = parse("卖玉米2吨 每斤1.2元 13912345678").to_json()
    assert list(data) == ["text", "intent", "postings", "command", "phones"]
    assert list(data["postings"][0]) == [
        "side", "product", "category", "quantity", "unit", "base_quantity", "base_unit",
        "price", "price_max", "price_unit", "quality", "location",
    ]
    assert data["postings"][0]["quantity"] == 2 and isinstance(data["postings"][0]["quantity"], int)
