"""The index: examples from the issue, removal and re-adding, lazy iteration."""

from typing import Any, ClassVar

import pytest

from farmer_mailbox.matching import DAY_SECONDS, Families, IndexedPosting, MatchIndex, Recency
from farmer_mailbox.matching.model import Side

FAMILIES = Families.from_parents({"尿素": "化肥", "复合肥": "化肥", "猪": "畜禽", "猪肉": None, "鸡蛋": None})
YANGGAO = "330282123222"
DAY = DAY_SECONDS


def post(
    id: int,
    side: Side,
    product: str,
    region: str = YANGGAO,
    created_at: float = 0.0,
    qty: float | None = None,
    user: int | None = None,
    price: float | None = None,
    price_max: float | None = None,
) -> IndexedPosting:
    """A posting with defaults, its user the id unless given."""
    return IndexedPosting(
        id, id if user is None else user, side, product, region, created_at, qty, price, price_max, "元/斤"
    )


def ids(index: MatchIndex, query: IndexedPosting) -> list[int]:
    return [m.posting.id for m in index.iter_matches(query)]


def test_seller_of_urea_finds_buyers_of_urea_and_of_fertiliser() -> None:
    index = MatchIndex.from_postings(
        FAMILIES,
        [
            post(1, "buy", "尿素", created_at=1),
            post(2, "buy", "化肥", created_at=2),
            post(3, "buy", "复合肥", created_at=3),
            post(4, "sell", "尿素", created_at=4),
        ],
    )
    assert ids(index, post(9, "sell", "尿素", created_at=10)) == [2, 1]


def test_buyer_of_fertiliser_sees_its_kinds_but_pig_buyer_never_sees_pork() -> None:
    index = MatchIndex.from_postings(
        FAMILIES,
        [
            post(1, "sell", "尿素", created_at=1),
            post(2, "sell", "复合肥", created_at=2),
            post(3, "sell", "猪肉", created_at=3),
            post(4, "sell", "猪", created_at=4),
            post(5, "sell", "鸡蛋", created_at=5),
        ],
    )
    assert ids(index, post(9, "buy", "化肥")) == [2, 1]
    assert ids(index, post(9, "buy", "猪")) == [4]
    assert ids(index, post(9, "buy", "鸡苗")) == []


def test_walks_outward_then_newest_first() -> None:
    regions = {
        1: "440802001001",  # other province
        2: "330102001001",  # same province
        3: "330281001001",  # same city
        4: "330282114201",  # same county
        5: "330282123201",  # same town
        6: YANGGAO,  # same village
        7: "330282123000",  # same town, village unknown
        8: "330282000000",  # same county, town unknown
    }
    postings = [post(i, "sell", "尿素", region, created_at=i) for i, region in regions.items()]
    index = MatchIndex.from_postings(FAMILIES, postings)
    matches = list(index.iter_matches(post(9, "buy", "尿素")))
    assert [(m.posting.id, m.distance) for m in matches] == [
        (6, 0),
        (7, 1),
        (5, 1),
        (8, 2),
        (4, 2),
        (3, 3),
        (2, 4),
        (1, 5),
    ]
    assert [m.posting.id for m in index.best(post(9, "buy", "尿素", "330282123000"), 3)] == [7, 6, 5]


def test_same_instant_orders_by_quantity_fit_then_id() -> None:
    postings = [
        post(1, "sell", "猪", qty=10),
        post(2, "sell", "猪"),
        post(3, "sell", "猪", qty=100),
        post(4, "sell", "猪", qty=100),
        post(5, "sell", "猪", qty=60),
    ]
    index = MatchIndex.from_postings(FAMILIES, postings)
    assert ids(index, post(9, "buy", "猪", qty=100)) == [3, 4, 5, 1, 2]
    assert ids(index, post(9, "buy", "猪")) == [1, 2, 3, 4, 5]


def test_within_a_day_quantity_fit_decides_then_a_newer_day_comes_first() -> None:
    """Recency is by day: a better fit posted in the morning beats a poor fit posted at noon."""
    postings = [
        post(1, "sell", "猪", created_at=DAY + 8 * 3600, qty=100),   # yesterday, best fit
        post(2, "sell", "猪", created_at=2 * DAY + 8 * 3600, qty=90),  # today 08:00, good fit
        post(3, "sell", "猪", created_at=2 * DAY + 12 * 3600, qty=10),  # today 12:00, poor fit
        post(4, "sell", "猪", created_at=2 * DAY + 9 * 3600),           # today 09:00, no quantity
        post(5, "sell", "猪", created_at=2 * DAY + 10 * 3600, qty=90),  # today 10:00, as good as 2
    ]
    index = MatchIndex.from_postings(FAMILIES, postings)
    assert ids(index, post(9, "buy", "猪", qty=100, created_at=2 * DAY + 13 * 3600)) == [5, 2, 3, 4, 1]
    hourly = MatchIndex.from_postings(FAMILIES, postings, Recency(seconds=3600))
    assert ids(hourly, post(9, "buy", "猪", qty=100)) == [3, 5, 4, 2, 1]
    assert hourly.recency == Recency(seconds=3600)


def test_never_own_postings() -> None:
    index = MatchIndex.from_postings(FAMILIES, [post(1, "sell", "猪", user=7), post(2, "sell", "猪")])
    assert ids(index, post(9, "buy", "猪", user=7)) == [2]


def test_buyer_price_ceiling_excludes_dearer_sellers_both_ways() -> None:
    index = MatchIndex.from_postings(
        FAMILIES,
        [post(1, "sell", "猪", price=9.0), post(2, "sell", "猪", price=5.0), post(3, "sell", "猪")],
    )
    assert ids(index, post(9, "buy", "猪", price_max=6.0)) == [2, 3]
    index.add(post(4, "buy", "猪", price_max=6.0))
    assert ids(index, post(10, "sell", "猪", price=9.0)) == []
    assert ids(index, post(10, "sell", "猪", price=6.0)) == [4]


def test_remove_and_add_again() -> None:
    first = post(1, "sell", "猪", created_at=1)
    index = MatchIndex.from_postings(FAMILIES, [first, post(2, "sell", "猪", created_at=2)])
    assert len(index) == 2 and 1 in index
    assert index.remove(1) is first
    assert index.remove(1) is None
    assert 1 not in index and len(index) == 1
    assert ids(index, post(9, "buy", "猪")) == [2]
    index.add(first)  # the same object again: its entries revive, never doubled
    assert ids(index, post(9, "buy", "猪")) == [2, 1]
    index.add(post(1, "sell", "猪", created_at=3))  # same id, new content: replaces
    assert ids(index, post(9, "buy", "猪")) == [1, 2]
    assert index.stats()["postings"] == 2


def test_removed_postings_are_compacted() -> None:
    postings = [post(i, "sell", "猪", created_at=i) for i in range(100)]
    index = MatchIndex.from_postings(FAMILIES, postings)
    for i in range(95):
        index.remove(i)
    stats = index.stats()
    assert stats["entries"] - stats["dead"] == 5 * 6
    assert stats["dead"] <= stats["entries"] // 2
    for i in range(95, 100):
        index.remove(i)
    assert index.stats() == {"postings": 0, "buckets": 0, "nodes": 0, "entries": 0, "dead": 0}


def test_out_of_order_adds_keep_recency_exact() -> None:
    index = MatchIndex(FAMILIES)
    for t in [5, 1, 9, 3, 7]:
        index.add(post(t, "sell", "猪", created_at=t))
    assert ids(index, post(99, "buy", "猪")) == [9, 7, 5, 3, 1]


def test_iteration_is_lazy_and_guards_against_changes() -> None:
    index = MatchIndex.from_postings(FAMILIES, [post(i, "sell", "猪", created_at=i) for i in range(5)])
    before_first = index.iter_matches(post(9, "buy", "猪"))
    index.add(post(5, "sell", "猪", created_at=5))
    with pytest.raises(RuntimeError, match="changed"):
        next(before_first)
    matches = index.iter_matches(post(9, "buy", "猪"))
    assert next(matches).posting.id == 5
    index.remove(0)
    with pytest.raises(RuntimeError, match="changed"):
        next(matches)
    assert index.best(post(9, "buy", "猪"), 0) == []
    assert [m.posting.id for m in index.best(post(9, "buy", "猪"), 2)] == [5, 4]


def test_bad_postings_are_refused() -> None:
    index = MatchIndex(FAMILIES)
    with pytest.raises(ValueError, match="region code"):
        index.add(post(1, "sell", "猪", region="3302821232"))
    with pytest.raises(ValueError, match="side"):
        index.add(post(1, "offer", "猪"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="created_at"):
        index.add(post(1, "sell", "猪", created_at=float("nan")))
    assert len(index) == 0
    with pytest.raises(ValueError, match="region code"):
        index.iter_matches(post(1, "buy", "猪", region="33"))  # refused at once, not at first next()


def test_city_without_counties_keeps_city_level_postings() -> None:
    """东莞 (4419) has no counties: a posting at the city code is not inside county prefix 441900."""
    regions = {1: "441900000000", 2: "441900004001", 3: "441900003002", 4: "440802001001"}
    postings = [post(i, "sell", "猪", region, created_at=i) for i, region in regions.items()]
    index = MatchIndex.from_postings(FAMILIES, postings)
    matches = index.iter_matches(post(9, "buy", "猪", "441900003001"))
    assert [(m.posting.id, m.distance) for m in matches] == [(3, 1), (2, 2), (1, 3), (4, 4)]


class Touched(IndexedPosting):
    """A posting that records when the index reads it, to show how few postings a query reads."""

    __slots__ = ()
    seen: ClassVar[set[int]] = set()

    def __getattribute__(self, name: str) -> Any:
        Touched.seen.add(object.__getattribute__(self, "id"))
        return object.__getattribute__(self, name)


def test_best_reads_postings_near_the_poster_not_the_whole_bucket() -> None:
    towns = [f"3302821{t:02d}{v:03d}" for t in range(10, 30) for v in range(201, 226)]
    postings = [
        Touched(i, i, "sell", "玉米", towns[i % len(towns)], i * DAY, 10.0, None, None, None)
        for i in range(20_000)
    ]
    index = MatchIndex.from_postings(FAMILIES, postings)
    Touched.seen.clear()
    best = index.best(post(-1, "buy", "玉米", towns[7], qty=10.0), 5)
    assert [m.distance for m in best] == [0] * 5
    assert len(Touched.seen) <= 2 * 5  # the village node holds 40 postings, a day apart; newest first, one peeked
    Touched.seen.clear()
    assert len(index.best(post(-1, "buy", "玉米", "330282150201"), 30)) == 30  # nobody in its town
    assert len(Touched.seen) <= 2 * 30
