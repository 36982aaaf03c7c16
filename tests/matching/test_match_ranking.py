"""Ranking rules: quantity fit, the buyer's price ceiling, counterparties and the order."""

import math

import pytest

from farmer_mailbox.matching import (
    DAILY,
    DAY_SECONDS,
    Families,
    IndexedPosting,
    Recency,
    fit_key,
    is_counterparty,
    price_acceptable,
    quantity_fit,
    rank_all,
    rank_key,
)
from farmer_mailbox.matching.model import Side

FAMILIES = Families.from_parents({"尿素": "化肥", "复合肥": "化肥"})
HOME = "330282123222"
DAY = DAY_SECONDS


def post(
    id: int,
    side: Side = "sell",
    product: str = "尿素",
    region: str = HOME,
    created_at: float = 0.0,
    qty: float | None = None,
    user: int | None = None,
    price: float | None = None,
    price_max: float | None = None,
    unit: str | None = "元/斤",
) -> IndexedPosting:
    """A posting with defaults, its user the id unless given."""
    return IndexedPosting(
        id, id if user is None else user, side, product, region, created_at, qty, price, price_max, unit
    )


@pytest.mark.parametrize(
    ("a", "b", "fit"),
    [
        (100, 100, 1.0),
        (100, 50, 0.5),
        (50, 100, 0.5),
        (2000, 500, 0.25),
        (None, 100, None),
        (100, None, None),
        (0, 100, None),
        (-1, 100, None),
        (math.nan, 100, None),
        (math.inf, 100, None),
    ],
)
def test_quantity_fit(a: float | None, b: float | None, fit: float | None) -> None:
    assert quantity_fit(a, b) == fit


def test_unknown_fit_sorts_after_every_known_one() -> None:
    fits = [None, 0.1, 1.0, 0.5, None]
    assert sorted(fits, key=fit_key) == [1.0, 0.5, 0.1, None, None]


@pytest.mark.parametrize(
    ("price_max", "buyer_unit", "price", "seller_unit", "ok"),
    [
        (None, "元/斤", 9.0, "元/斤", True),  # no ceiling: price shown, not filtered
        (2.0, "元/斤", 2.5, "元/斤", False),  # above the ceiling in the same unit
        (2.0, "元/斤", 2.0, "元/斤", True),  # at the ceiling
        (2.0, "元/斤", 1.5, "元/斤", True),
        (2.0, "元/斤", None, None, True),  # seller gave no price: kept
        (2.0, "元/斤", 2.5, "元/公斤", True),  # other unit, not comparable: kept
        (2.0, None, 2.5, None, False),  # both without unit count as the same unit
    ],
)
def test_price_acceptable(
    price_max: float | None, buyer_unit: str | None, price: float | None, seller_unit: str | None, ok: bool
) -> None:
    buyer = post(1, "buy", price_max=price_max, unit=buyer_unit)
    seller = post(2, "sell", price=price, unit=seller_unit)
    assert price_acceptable(buyer, seller) is ok
    assert is_counterparty(buyer, seller, FAMILIES) is ok
    assert is_counterparty(seller, buyer, FAMILIES) is ok  # symmetric


def test_counterparty_rules() -> None:
    seller = post(1, "sell", "尿素")
    assert is_counterparty(post(2, "buy", "尿素"), seller, FAMILIES)
    assert is_counterparty(post(2, "buy", "化肥"), seller, FAMILIES)
    assert not is_counterparty(post(2, "buy", "复合肥"), seller, FAMILIES)
    assert not is_counterparty(post(2, "sell", "尿素"), seller, FAMILIES)  # same side
    assert not is_counterparty(post(2, "buy", "尿素", user=1), seller, FAMILIES)  # own posting
    assert not is_counterparty(post(2, "buy", "尿素"), post(1, "sell", "化肥"), FAMILIES)


def test_rank_key_orders_distance_then_day_then_fit_then_newest_then_id() -> None:
    query = post(0, "buy", qty=100)
    candidates = [
        post(1, region="440802001001", created_at=9 * DAY, qty=100),  # far, newest
        post(2, region="330282123201", created_at=DAY, qty=100),  # same town, old
        post(3, created_at=DAY, qty=10),  # same village, old, poor fit
        post(4, created_at=DAY, qty=90),  # same village, old, good fit
        post(5, created_at=DAY),  # same village, old, unknown quantity
        post(6, created_at=DAY, qty=110),  # same village, old, better fit than 4 (90/100 < 100/110)
        post(7, created_at=2 * DAY, qty=1),  # same village, a newer day: first, whatever its fit
        post(8, created_at=DAY, qty=90),  # as 4, larger id
        post(9, created_at=DAY + 3600, qty=90),  # as 4, an hour newer the same day: before 4
    ]
    ranked = sorted(candidates, key=lambda c: rank_key(query, c))
    assert [c.id for c in ranked] == [7, 6, 9, 4, 8, 3, 5, 2, 1]
    assert rank_key(query, candidates[1]) == (1, -1, 0, -1.0, -DAY, 2)


def test_recency_buckets_are_local_days() -> None:
    shanghai = Recency(offset=8 * 3600)
    late = 16 * 3600 - 1.0      # 23:59:59 in Shanghai on day 0
    early = 16 * 3600 + 1.0     # 00:00:01 in Shanghai on day 1
    assert shanghai.bucket(late) + 1 == shanghai.bucket(early)
    assert DAILY.bucket(late) == DAILY.bucket(early)       # the same UTC day
    query = post(0, "buy", qty=100)
    fits_well, fits_badly = post(1, created_at=late, qty=100), post(2, created_at=early, qty=1)
    assert [m.posting.id for m in rank_all(query, [fits_well, fits_badly], FAMILIES)] == [1, 2]
    assert [m.posting.id for m in rank_all(query, [fits_well, fits_badly], FAMILIES, shanghai)] == [2, 1]
    with pytest.raises(ValueError, match="positive"):
        Recency(seconds=0)


def test_rank_all_filters_and_reports_distance_and_fit() -> None:
    query = post(0, "buy", "化肥", qty=200, price_max=3.0)
    candidates = [
        post(1, "sell", "尿素", region="330282114201", qty=100),
        post(2, "sell", "复合肥", qty=400, price=2.0),
        post(3, "sell", "复合肥", price=3.5),  # over the ceiling
        post(4, "buy", "尿素"),  # same side
        post(5, "sell", "尿素", user=0),  # own
    ]
    matches = rank_all(query, candidates, FAMILIES)
    assert [(m.posting.id, m.distance, m.quantity_fit) for m in matches] == [(2, 0, 0.5), (1, 2, 0.5)]
