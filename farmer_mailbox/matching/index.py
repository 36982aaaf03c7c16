"""The in-memory index of open postings, and the outward walk that finds matches best first.

Layout. Postings are bucketed by (side, product). In a bucket, every region node a posting lies
in holds it: the root (key ""), its province, city, county, town and village prefix, down to its
code's depth (see `regions_code`). Each node's list is sorted by (created_at, id), so reading it
backwards gives the newest first. A posting is thus in at most six lists of its bucket.

Walk. For a query whose code defines levels 1..d, the candidates at distance ``5 - c`` are:
for c == d, the whole node of the query's own deepest prefix; for c < d, the node of its level-c
prefix minus the node of its level-(c+1) prefix (already visited). The walk reads level d, then
d-1, ... up to the root, each level newest first, skipping the inner node's postings by a prefix
test. Postings of several products (a family) are merged per level by a heap on created_at.
Recency is coarse (see `Recency`: a local day by default): the postings of one level and one
recency bucket are read together and ordered by quantity fit, then newest, then id. A query for
the best K therefore reads about K postings near the poster (plus the rest of the last day it
touches), never the whole bucket.

Removal is lazy: a removed posting leaves dead entries (an entry is alive while the id maps to
that very object), counted per node; a node is compacted when more than half of it is dead, which
keeps removal amortised O(1) per node. Re-adding the same object revives its dead entries.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from itertools import islice

from .families import Families
from .model import DAILY, SIDES, IndexedPosting, Match, Recency, other_side
from .ranking import fit_key, price_acceptable, quantity_fit
from .regions_code import LEVELS, padded, region_prefixes

_ROOT = ""


@cache
def _path(region: str) -> tuple[str, ...]:
    """Node keys a posting of this region lies in: the root, then each prefix it defines."""
    return (_ROOT, *region_prefixes(region))


def _checked_path(p: IndexedPosting) -> tuple[str, ...]:
    """The node keys of a posting, after checking its side, creation time and region code."""
    if p.side not in SIDES:
        raise ValueError(f"posting {p.id}: side must be 'sell' or 'buy', got {p.side!r}")
    if not math.isfinite(p.created_at):
        raise ValueError(f"posting {p.id}: created_at must be a finite time, got {p.created_at!r}")
    return _path(p.region)


def _order(p: IndexedPosting) -> tuple[float, int]:
    """The order of every node list: oldest first, then by id."""
    return (p.created_at, p.id)


def _created(p: IndexedPosting) -> float:
    """Merge key of the per-level streams."""
    return p.created_at


class _Bucket:
    """The postings of one (side, product): a sorted list per region node, with dead counts."""

    __slots__ = ("dead", "nodes")

    def __init__(self) -> None:
        self.nodes: dict[str, list[IndexedPosting]] = {}
        self.dead: dict[str, int] = {}


class MatchIndex:
    """Open postings by side, product and region, for matching a new posting at once."""

    def __init__(self, families: Families, recency: Recency = DAILY) -> None:
        self._families = families
        self._recency = recency
        self._live: dict[int, IndexedPosting] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._version = 0

    @classmethod
    def from_postings(cls, families: Families, postings: Iterable[IndexedPosting],
                      recency: Recency = DAILY) -> MatchIndex:
        """Build an index from open postings (the last one of a repeated id wins)."""
        index = cls(families, recency)
        latest = {p.id: p for p in postings}
        # bucket by bucket (for locality), each bucket in (created_at, id) order
        for p in sorted(latest.values(), key=lambda p: (p.side, p.product, p.created_at, p.id)):
            index._append(p)
        return index

    @property
    def families(self) -> Families:
        """The product family tree queries are answered with."""
        return self._families

    @property
    def recency(self) -> Recency:
        """How coarsely recency ranks (the same buckets `rank_all` must be given)."""
        return self._recency

    def __len__(self) -> int:
        """Number of open postings indexed."""
        return len(self._live)

    def __contains__(self, posting_id: object) -> bool:
        """Whether a posting id is indexed."""
        return posting_id in self._live

    def get(self, posting_id: int) -> IndexedPosting | None:
        """The open posting with this id, if indexed."""
        return self._live.get(posting_id)

    def add(self, p: IndexedPosting) -> None:
        """Index an open posting; one already indexed under the same id is replaced."""
        path = _checked_path(p)
        if p.id in self._live:
            self.remove(p.id)
        self._live[p.id] = p
        bucket = self._bucket(p)
        for key in path:
            _insert(bucket, key, p)
        self._version += 1

    def _append(self, p: IndexedPosting) -> None:
        """Add a new posting later in (created_at, id) than any other of its bucket (bulk load)."""
        path = _checked_path(p)
        self._live[p.id] = p
        nodes = self._bucket(p).nodes
        for key in path:
            items = nodes.get(key)
            if items is None:
                nodes[key] = [p]
            else:
                items.append(p)

    def _bucket(self, p: IndexedPosting) -> _Bucket:
        """The bucket of a posting's side and product, created if need be."""
        bucket = self._buckets.get((p.side, p.product))
        if bucket is None:
            bucket = self._buckets[(p.side, p.product)] = _Bucket()
        return bucket

    def remove(self, posting_id: int) -> IndexedPosting | None:
        """Take a posting out (cancelled, expired, hidden); returns it, or None if absent."""
        p = self._live.pop(posting_id, None)
        if p is None:
            return None
        bucket_key = (p.side, p.product)
        bucket = self._buckets[bucket_key]
        for key in _path(p.region):
            self._bury(bucket, key)
        if not bucket.nodes:
            del self._buckets[bucket_key]
        self._version += 1
        return p

    def _bury(self, bucket: _Bucket, key: str) -> None:
        """Count one more dead entry in a node; compact the node once most of it is dead."""
        items = bucket.nodes[key]
        dead = bucket.dead.get(key, 0) + 1
        if dead * 2 <= len(items):
            bucket.dead[key] = dead
            return
        bucket.dead.pop(key, None)
        live = self._live
        kept = [q for q in items if live.get(q.id) is q]
        if kept:
            bucket.nodes[key] = kept
        else:
            del bucket.nodes[key]

    def best(self, p: IndexedPosting, k: int) -> list[Match]:
        """The k best matches for a posting, best first."""
        return list(islice(self.iter_matches(p), max(k, 0)))

    def iter_matches(self, p: IndexedPosting) -> Iterator[Match]:
        """Every match for a posting, best first, computed lazily; the index must not change meanwhile."""
        return self._walk(p, _checked_path(p), self._counter_buckets(p), self._version)

    def _walk(
        self, p: IndexedPosting, path: tuple[str, ...], buckets: list[_Bucket], version: int
    ) -> Iterator[Match]:
        """Matches level by level outward from the poster's own deepest region node."""
        for level in range(len(path) - 1, -1, -1):
            stream = self._level_stream(buckets, path, level, p)
            for match in _bucket_ordered(stream, p, LEVELS - level, self._recency):
                if self._version != version:
                    raise RuntimeError("MatchIndex changed while its matches were being read")
                yield match

    def _counter_buckets(self, p: IndexedPosting) -> list[_Bucket]:
        """Buckets holding the postings `p` may match: the other side, the family's products."""
        fam = self._families
        products = fam.sellers_for(p.product) if p.side == "buy" else fam.buyers_for(p.product)
        side = other_side(p.side)
        found = (self._buckets.get((side, product)) for product in products)
        return [b for b in found if b is not None]

    def _level_stream(
        self, buckets: list[_Bucket], path: tuple[str, ...], level: int, p: IndexedPosting
    ) -> Iterator[IndexedPosting]:
        """Candidates at common depth `level` with the query, newest first, across buckets."""
        key = path[level]
        inner = path[level + 1] if level + 1 < len(path) else None
        own = padded(key)
        streams = [
            self._scan(items, inner, own, p) for b in buckets if (items := b.nodes.get(key)) is not None
        ]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=_created, reverse=True)

    def _scan(
        self, items: list[IndexedPosting], inner: str | None, own: str, query: IndexedPosting
    ) -> Iterator[IndexedPosting]:
        """Live, acceptable postings of one node, newest first, outside the `inner` prefix."""
        live = self._live
        user = query.user_id
        gate = _price_gate(query)
        for q in reversed(items):
            if live.get(q.id) is not q or q.user_id == user:
                continue
            if inner is not None and q.region.startswith(inner) and q.region != own:
                continue  # lies in the inner node: a nearer level already gave it
            if gate is not None and not gate(q):
                continue
            yield q

    def stats(self) -> dict[str, int]:
        """Sizes for monitoring: postings, buckets, region nodes, list entries, dead entries."""
        buckets = self._buckets.values()
        return {
            "postings": len(self._live),
            "buckets": len(self._buckets),
            "nodes": sum(len(b.nodes) for b in buckets),
            "entries": sum(len(items) for b in buckets for items in b.nodes.values()),
            "dead": sum(sum(b.dead.values()) for b in buckets),
        }


def _insert(bucket: _Bucket, key: str, p: IndexedPosting) -> None:
    """Put `p` in a node's sorted list, or revive its dead entry there if it is still present."""
    items = bucket.nodes.get(key)
    if items is None:
        bucket.nodes[key] = [p]
        return
    last = items[-1]
    if last.created_at < p.created_at or (last.created_at == p.created_at and last.id < p.id):
        items.append(p)  # the usual case: postings arrive in creation order
        return
    order = _order(p)
    lo = bisect_left(items, order, key=_order)
    hi = bisect_right(items, order, lo=lo, key=_order)
    if any(items[i] is p for i in range(lo, hi)):
        bucket.dead[key] -= 1
        if not bucket.dead[key]:
            del bucket.dead[key]
        return
    items.insert(hi, p)


def _price_gate(query: IndexedPosting) -> Callable[[IndexedPosting], bool] | None:
    """A price test for the query's candidates, or None when the query implies no price bound."""
    if query.side == "buy":
        return None if query.price_max is None else lambda seller: price_acceptable(query, seller)
    return None if query.price is None else lambda buyer: price_acceptable(buyer, query)


def _bucket_ordered(
    stream: Iterator[IndexedPosting], query: IndexedPosting, distance: int, recency: Recency
) -> Iterator[Match]:
    """Matches from a newest-first stream, the postings of each recency bucket by fit, newest, id."""
    floor, offset, seconds = math.floor, recency.offset, recency.seconds  # as Recency.bucket computes it
    group: list[IndexedPosting] = []
    current = 0
    for candidate in stream:
        bucket = floor((candidate.created_at + offset) / seconds)
        if group and bucket != current:
            yield from _group_matches(group, query, distance)
            group = []
        current = bucket
        group.append(candidate)
    yield from _group_matches(group, query, distance)


def _group_matches(group: list[IndexedPosting], query: IndexedPosting, distance: int) -> Iterator[Match]:
    """Matches for candidates equally recent (one bucket), by quantity fit, then newest, then id."""
    wanted = query.base_quantity
    matches = [Match(c, distance, quantity_fit(wanted, c.base_quantity)) for c in group]
    if len(matches) > 1:
        matches.sort(key=lambda m: (fit_key(m.quantity_fit), -m.posting.created_at, m.posting.id))
    return iter(matches)
