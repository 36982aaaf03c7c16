"""Product families: the buyer's general word covers the specific products below it."""

import pytest

from farmer_mailbox.matching import Families

PARENTS: dict[str, str | None] = {
    "尿素": "化肥",
    "复合肥": "化肥",
    "高氮复合肥": "复合肥",
    "化肥": "农资",
    "猪": "畜禽",
    "猪肉": "肉类",
    "鸡苗": "畜禽",
    "鸡蛋": None,
}
FAMILIES = Families.from_parents(PARENTS)


def test_ancestors_nearest_first() -> None:
    assert FAMILIES.ancestors("高氮复合肥") == ("复合肥", "化肥", "农资")
    assert FAMILIES.ancestors("化肥") == ("农资",)
    assert FAMILIES.ancestors("农资") == ()  # a parent never listed as a child is a root
    assert FAMILIES.ancestors("葡萄苗") == ()  # unknown to the tree


def test_descendants() -> None:
    assert FAMILIES.descendants("化肥") == {"尿素", "复合肥", "高氮复合肥"}
    assert FAMILIES.descendants("复合肥") == {"高氮复合肥"}
    assert FAMILIES.descendants("尿素") == frozenset()
    assert FAMILIES.descendants("葡萄苗") == frozenset()


@pytest.mark.parametrize(
    ("buyer", "seller", "matches"),
    [
        ("尿素", "尿素", True),
        ("化肥", "尿素", True),  # a buyer of 化肥 may see 尿素 and 复合肥
        ("化肥", "复合肥", True),
        ("化肥", "高氮复合肥", True),  # any ancestor, not only the parent
        ("农资", "尿素", True),
        ("尿素", "化肥", False),  # never the other way round
        ("尿素", "复合肥", False),  # nor sideways
        ("鸡苗", "鸡蛋", False),  # a buyer of 鸡苗 never sees 鸡蛋
        ("猪", "猪肉", False),  # a buyer of 猪 never sees 猪肉
        ("猪肉", "猪", False),
        ("畜禽", "猪", True),
        ("畜禽", "猪肉", False),
        ("葡萄苗", "葡萄苗", True),  # unknown products match themselves
        ("葡萄苗", "尿素", False),
    ],
)
def test_buyer_matches_seller(buyer: str, seller: str, matches: bool) -> None:
    assert FAMILIES.buyer_matches_seller(buyer, seller) is matches


def test_products_a_query_looks_at() -> None:
    assert FAMILIES.buyers_for("尿素") == ("尿素", "化肥", "农资")
    assert FAMILIES.sellers_for("化肥") == ("化肥", "复合肥", "尿素", "高氮复合肥")
    assert Families.empty().sellers_for("化肥") == ("化肥",)


@pytest.mark.parametrize(
    "parents",
    [{"a": "a"}, {"a": "b", "b": "a"}, {"x": "a", "a": "b", "b": "c", "c": "a"}],
)
def test_cycles_are_refused(parents: dict[str, str | None]) -> None:
    with pytest.raises(ValueError, match=r"cycle: a -> .*a$"):
        Families.from_parents(parents)
