"""Who matches whom, and in what order: pure functions over postings, no index.

Counterparty. A candidate matches a query posting when it is on the other side, belongs to
another user, its product fits the family rule (see `families`), and the price check passes.

Price. Shown, not filtered, except when the buyer gave a maximum: a seller whose price is above
it, in the same price unit, is excluded. A seller with no price, or a price in another unit (not
comparable), is kept. The check is symmetric, so a new sell posting never reaches a buyer who
would not have been shown it.

Order (best first):
1. region distance (see `regions_code`), nearer first;
2. recency, coarsely: the newer recency bucket first (a `Recency` bucket is a local calendar day
   by default, so postings of the same day are equally recent);
3. quantity fit: min/max of the two base quantities, closer to 1 first; a candidate whose fit is
   unknown (either quantity missing) comes after every known one;
4. exact recency: newer `created_at` first;
5. posting id, smaller first, so that the order is total and deterministic.

`rank_all` is the plain definition (filter, then sort everything). The index must give the same
list, best first, without looking at every posting; tests hold it to this reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .families import Families
from .model import DAILY, IndexedPosting, Match, Recency
from .regions_code import region_distance

RankKey = tuple[int, int, int, float, float, int]


def quantity_fit(a: float | None, b: float | None) -> float | None:
    """How close two base quantities are, min/max in (0, 1]; None when either is unknown."""
    if a is None or b is None or not (a > 0 and b > 0) or math.isinf(a) or math.isinf(b):
        return None
    return min(a, b) / max(a, b)


def fit_key(fit: float | None) -> tuple[int, float]:
    """Sort key for a quantity fit: known fits first, the closer the earlier; unknown last."""
    return (1, 0.0) if fit is None else (0, -fit)


def price_acceptable(buyer: IndexedPosting, seller: IndexedPosting) -> bool:
    """False only when the seller's price exceeds the buyer's maximum in the same unit."""
    if buyer.price_max is None or seller.price is None or buyer.price_unit != seller.price_unit:
        return True
    return seller.price <= buyer.price_max


def buyer_and_seller(a: IndexedPosting, b: IndexedPosting) -> tuple[IndexedPosting, IndexedPosting]:
    """The two postings of a pair, the buy posting first."""
    return (a, b) if a.side == "buy" else (b, a)


def is_counterparty(query: IndexedPosting, candidate: IndexedPosting, families: Families) -> bool:
    """True when `candidate` should be shown to the author of `query` (and the other way round)."""
    if candidate.side == query.side or candidate.user_id == query.user_id:
        return False
    buyer, seller = buyer_and_seller(query, candidate)
    return families.buyer_matches_seller(buyer.product, seller.product) and price_acceptable(buyer, seller)


def rank_key(query: IndexedPosting, candidate: IndexedPosting, recency: Recency = DAILY) -> RankKey:
    """Sort key of a candidate for a query: distance, newest day, quantity fit, newest, id (module doc)."""
    known, closeness = fit_key(quantity_fit(query.base_quantity, candidate.base_quantity))
    distance = region_distance(query.region, candidate.region)
    return (distance, -recency.bucket(candidate.created_at), known, closeness, -candidate.created_at, candidate.id)


def match_of(query: IndexedPosting, candidate: IndexedPosting, distance: int) -> Match:
    """The Match shown for a candidate at a known distance from the query."""
    return Match(candidate, distance, quantity_fit(query.base_quantity, candidate.base_quantity))


def rank_all(query: IndexedPosting, candidates: Iterable[IndexedPosting], families: Families,
             recency: Recency = DAILY) -> list[Match]:
    """Every match among `candidates`, best first, by filtering and sorting them all."""
    found = [c for c in candidates if is_counterparty(query, c, families)]
    found.sort(key=lambda c: rank_key(query, c, recency))
    return [match_of(query, c, region_distance(query.region, c.region)) for c in found]
