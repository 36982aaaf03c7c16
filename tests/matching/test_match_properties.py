"""Property tests: the index answers exactly as the brute-force reference `rank_all` does."""

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.matching import Families, IndexedPosting, MatchIndex, Recency, rank_all, region_depth

FAMILIES = Families.from_parents(
    {
        "尿素": "化肥",
        "复合肥": "化肥",
        "高氮复合肥": "复合肥",
        "猪": None,
        "猪肉": None,
        "鸡苗": None,
        "鸡蛋": None,
    }
)
PRODUCTS = ["化肥", "尿素", "复合肥", "高氮复合肥", "猪", "猪肉", "葡萄苗"]
REGIONS = [
    "330282123222",  # 杨高村
    "330282123201",  # same town
    "330282123000",  # the town itself, village unknown
    "330282114201",  # same county
    "330282114000",
    "330282000000",  # the county itself
    "330281001001",  # same city
    "330200000000",  # the city itself
    "330102001001",  # same province
    "330000000000",
    "440802001001",  # other province
    "441900003001",  # 东莞: no county level
    "441900003002",
    "441900004001",
    "441900003000",
    "441900000000",
]

posting_fields = st.fixed_dictionaries(
    {
        "user_id": st.integers(0, 4),
        "side": st.sampled_from(["sell", "buy"]),
        "product": st.sampled_from(PRODUCTS),
        "region": st.sampled_from(REGIONS),
        "created_at": st.integers(0, 6).map(float),  # few instants, so ties happen
        "base_quantity": st.none() | st.sampled_from([1.0, 2.0, 5.0, 10.0, 20.0]),
        "price": st.none() | st.sampled_from([1.0, 2.0, 3.0]),
        "price_max": st.none() | st.sampled_from([1.0, 2.0, 3.0]),
        "price_unit": st.sampled_from([None, "元/斤", "元/公斤"]),
    }
)


def populations(max_size: int = 30) -> st.SearchStrategy[list[IndexedPosting]]:
    """Postings with distinct ids 0..n-1."""
    return st.lists(posting_fields, max_size=max_size).map(
        lambda rows: [IndexedPosting(id=i, **row) for i, row in enumerate(rows)]
    )


queries = posting_fields.map(lambda row: IndexedPosting(id=10_000, **row))


@settings(max_examples=300)
@given(populations(), queries)
def test_iter_matches_equals_reference(postings: list[IndexedPosting], query: IndexedPosting) -> None:
    index = MatchIndex.from_postings(FAMILIES, postings)
    assert list(index.iter_matches(query)) == rank_all(query, postings, FAMILIES)


@settings(max_examples=300)
@given(populations(), queries, st.sampled_from([2.0, 3.0, 7.0]), st.integers(0, 5).map(float))
def test_iter_matches_equals_reference_across_recency_buckets(
    postings: list[IndexedPosting], query: IndexedPosting, seconds: float, offset: float
) -> None:
    """Buckets shorter than the spread of creation times: bucket boundaries fall among the postings."""
    recency = Recency(seconds=seconds, offset=offset)
    index = MatchIndex.from_postings(FAMILIES, postings, recency)
    assert list(index.iter_matches(query)) == rank_all(query, postings, FAMILIES, recency)


@given(populations(), queries, st.integers(0, 8))
def test_best_is_a_prefix_of_every_match(
    postings: list[IndexedPosting], query: IndexedPosting, k: int
) -> None:
    index = MatchIndex.from_postings(FAMILIES, postings)
    assert index.best(query, k) == rank_all(query, postings, FAMILIES)[:k]


@given(populations(), st.randoms(use_true_random=False))
def test_insertion_order_does_not_matter(postings: list[IndexedPosting], rnd: random.Random) -> None:
    shuffled = list(postings)
    rnd.shuffle(shuffled)
    built = MatchIndex.from_postings(FAMILIES, postings)
    added = MatchIndex(FAMILIES)
    for p in shuffled:
        added.add(p)
    for query in postings:
        assert list(added.iter_matches(query)) == list(built.iter_matches(query))


operations = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "readd", "replace"]), st.integers(0, 29)), max_size=80
)


@settings(max_examples=200)
@given(populations(), operations, queries)
def test_add_remove_consistency(
    postings: list[IndexedPosting], ops: list[tuple[str, int]], query: IndexedPosting
) -> None:
    """After any sequence of adds, removals, re-adds and replacements the index equals the model."""
    index, model = MatchIndex(FAMILIES), {}
    removed: dict[int, IndexedPosting] = {}
    for op, i in ops:
        if i >= len(postings):
            continue
        p = postings[i]
        if op == "add":
            index.add(p)
            model[p.id] = p
        elif op == "remove":
            assert index.remove(p.id) == model.pop(p.id, None)
            removed[p.id] = p
        elif op == "readd" and p.id in removed:
            index.add(removed[p.id])  # the very object removed earlier
            model[p.id] = removed[p.id]
        elif op == "replace":
            newer = replace(p, created_at=p.created_at + 0.5)
            index.add(newer)
            model[p.id] = newer
    assert len(index) == len(model)
    assert all(pid in index for pid in model)
    stats = index.stats()
    assert stats["entries"] - stats["dead"] == sum(1 + region_depth(p.region) for p in model.values())
    assert list(index.iter_matches(query)) == rank_all(query, model.values(), FAMILIES)


@given(populations(), queries)
def test_never_own_postings_and_price_ceiling(postings: list[IndexedPosting], query: IndexedPosting) -> None:
    index = MatchIndex.from_postings(FAMILIES, postings)
    for match in index.iter_matches(query):
        other = match.posting
        assert other.user_id != query.user_id
        assert other.side != query.side
        buyer, seller = (query, other) if query.side == "buy" else (other, query)
        if buyer.price_max is not None and seller.price is not None and buyer.price_unit == seller.price_unit:
            assert seller.price <= buyer.price_max
