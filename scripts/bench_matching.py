"""Benchmark of the matching index: build, query latency, memory, against a naive scan in the same run.

Builds N open postings (default 1,000,000): ~600 products with Zipf-like popularity plus one hot
product (玉米, 200,000 sellers spread over one province), over generated region codes with the
real structure (a few provinces; cities, counties, towns and villages numbered as the statistics
bureau does, one city without counties like 东莞; some postings only give a town or county).
Then times `best(p, k)` (k = 21: what the service reads, matching.max_matches_stored + 1) for
random new postings (a quarter of them buyers of the hot product, some buyers of a general word
such as 化肥) and, for a few hundred of them, a naive scan-and-sort of the same buckets
(`rank_all`), which must return the same matches. The last line printed is one JSON object of
the figures.

Each query is timed in several rounds. On a shared machine a query is now and then descheduled
for a few milliseconds; the minimum over rounds of each query's time removes that noise but keeps
every query's own cost (`query_ms`). The first round, noise included, is `query_ms_first_round`.
Memory: RSS growth per posting while generating the postings and while indexing them, and the
index's own containers by sys.getsizeof (postings excluded).

    python scripts/bench_matching.py --postings 1000000 --queries 20000 --seed 1
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from farmer_mailbox.matching import Families, IndexedPosting, Match, MatchIndex, Side, other_side, rank_all

Naive = Callable[[IndexedPosting, int], list[Match]]

HOT = "玉米"
HOT_PROVINCE = "41"
PROVINCES = ("33", "41", "44", "52", "37")
NOW = 1_800_000_000.0
DAY = 86_400.0
NAMED = ("化肥", "尿素", "复合肥", "磷肥", "钾肥", "葡萄苗", "猪", "猪肉", "鸡苗", "鸡蛋", "小麦", "水稻")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", type=int, default=300, help="queries also answered by a naive scan")
    parser.add_argument("--k", type=int, default=21,
                        help="matches read per query (the service reads matching.max_matches_stored + 1 = 21)")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is timed (noise filter)")
    return parser.parse_args(argv)


def villages(rnd: random.Random, province: str) -> list[str]:
    """Village codes of one province: ~10 cities, ~9 counties each, ~15 towns, ~20 villages."""
    codes = []
    for city in _numbers(rnd, 1, rnd.randint(8, 12)):
        counties = ["00"] if (province, city) == ("44", "19") else _county_numbers(rnd)
        for county in counties:
            for town in _town_numbers(rnd):
                prefix = f"{province}{city}{county}{town}"
                codes += [prefix + v for v in _village_numbers(rnd)]
    return codes


def _numbers(rnd: random.Random, first: int, count: int, width: int = 2) -> list[str]:
    """`count` consecutive zero-padded numbers starting at `first`."""
    return [str(n).zfill(width) for n in range(first, first + count)]


def _county_numbers(rnd: random.Random) -> list[str]:
    """Districts 02.., counties 2x, county-level cities 8x."""
    return _numbers(rnd, 2, rnd.randint(2, 5)) + _numbers(rnd, 21, rnd.randint(2, 4)) + ["81", "82"]


def _town_numbers(rnd: random.Random) -> list[str]:
    """Streets 001.., towns 1xx, townships 2xx."""
    return _numbers(rnd, 1, rnd.randint(2, 5), 3) + _numbers(rnd, 101, rnd.randint(5, 9), 3) + ["201", "202"]


def _village_numbers(rnd: random.Random) -> list[str]:
    """Communities 001.., villages 2xx."""
    return _numbers(rnd, 1, rnd.randint(2, 5), 3) + _numbers(rnd, 201, rnd.randint(10, 20), 3)


def products_and_families(count: int) -> tuple[list[str], Families]:
    """Product names (the hot one first) and a family tree over some of them."""
    names = [HOT, *NAMED] + [f"产品{i:03d}" for i in range(count - len(NAMED) - 1)]
    parents: dict[str, str | None] = {"尿素": "化肥", "复合肥": "化肥", "磷肥": "化肥", "钾肥": "化肥"}
    for i in range(len(NAMED) + 1, count - 6, 10):  # every tenth generated product has five kinds
        parents.update({names[i + j]: names[i] for j in range(1, 6)})
    return names, Families.from_parents(parents)


class World:
    """Random postings over the generated regions and products."""

    def __init__(self, rnd: random.Random, products: list[str]) -> None:
        self.rnd = rnd
        self.by_province = {p: villages(rnd, p) for p in PROVINCES}
        self.all_villages = [v for vs in self.by_province.values() for v in vs]
        self.products = products[1:]
        self.weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.products))))
        self.next_id = 0

    def posting(self, side: Side, product: str, village: str, created_at: float) -> IndexedPosting:
        """One posting; some give only their town or county, some no quantity or price."""
        rnd, self.next_id = self.rnd, self.next_id + 1
        roll = rnd.random()
        region = village[:9] + "000" if roll < 0.08 else village[:6] + "000000" if roll < 0.10 else village
        quantity = None if rnd.random() < 0.1 else round(rnd.lognormvariate(6, 1.5), 1)
        unit = "元/斤" if rnd.random() < 0.9 else "元/公斤"
        price = round(rnd.uniform(0.5, 5), 2) if side == "sell" and rnd.random() < 0.7 else None
        price_max = round(rnd.uniform(1, 6), 2) if side == "buy" and rnd.random() < 0.2 else None
        user = rnd.randrange(400_000)
        return IndexedPosting(
            self.next_id, user, side, product, region, created_at, quantity, price, price_max, unit
        )

    def random_posting(self, created_at: float) -> IndexedPosting:
        """A posting of a Zipf-popular product anywhere."""
        product = self.rnd.choices(self.products, cum_weights=self.weights)[0]
        side: Side = "sell" if self.rnd.random() < 0.55 else "buy"
        return self.posting(side, product, self.rnd.choice(self.all_villages), created_at)

    def hot_posting(self, side: Side, created_at: float) -> IndexedPosting:
        """A posting of the hot product in its province."""
        return self.posting(side, HOT, self.rnd.choice(self.by_province[HOT_PROVINCE]), created_at)

    def open_postings(self, n: int) -> list[IndexedPosting]:
        """n open postings of the last 30 days (whole seconds, so some are simultaneous)."""
        hot = min(200_000, n // 5)
        past = [float(int(NOW - self.rnd.uniform(0, 30 * DAY))) for _ in range(n)]
        return [self.hot_posting("sell", t) for t in past[:hot]] + [
            self.random_posting(t) for t in past[hot:]
        ]

    def queries(self, n: int, families: Families) -> list[tuple[str, IndexedPosting]]:
        """New postings to match: a quarter hot buyers, some general-word buyers, the rest at random."""
        out: list[tuple[str, IndexedPosting]] = []
        general = [p for p in self.products if families.descendants(p)]
        for _ in range(n):
            roll = self.rnd.random()
            if roll < 0.25:
                out.append(("hot", self.hot_posting("buy", NOW)))
            elif roll < 0.30:
                out.append(
                    (
                        "family",
                        self.posting(
                            "buy", self.rnd.choice(general), self.rnd.choice(self.all_villages), NOW
                        ),
                    )
                )
            else:
                out.append(("random", self.random_posting(NOW)))
        return out


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def index_container_bytes(index: MatchIndex) -> int:
    """Bytes of the index's own dicts, lists and keys (postings themselves excluded)."""
    total = sys.getsizeof(index._live) + sys.getsizeof(index._buckets)
    keys: dict[int, int] = {}  # node keys are shared between buckets: count each string once
    for bucket in index._buckets.values():
        total += sys.getsizeof(bucket) + sys.getsizeof(bucket.nodes) + sys.getsizeof(bucket.dead)
        total += sum(sys.getsizeof(items) for items in bucket.nodes.values())
        keys.update((id(key), sys.getsizeof(key)) for key in bucket.nodes)
    return total + sum(keys.values())


def posting_bytes(p: IndexedPosting) -> int:
    """Bytes of one posting object and the numbers it alone holds (strings are shared)."""
    own = [p.created_at, p.base_quantity, p.price, p.price_max, p.id, p.user_id]
    return sys.getsizeof(p) + sum(sys.getsizeof(v) for v in own if v is not None)


def percentile(sorted_ms: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank)."""
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def summary(ms: list[float]) -> dict[str, float]:
    """p50, p99 and max of latencies in milliseconds."""
    ms = sorted(ms)
    return {
        "p50": round(percentile(ms, 0.5), 4),
        "p99": round(percentile(ms, 0.99), 4),
        "max": round(ms[-1], 4),
    }


def time_queries(index: MatchIndex, queries: list[tuple[str, IndexedPosting]], k: int) -> list[float]:
    """Latency in ms of best(p, k) for each query."""
    out = []
    for _, q in queries:
        start = time.perf_counter_ns()
        index.best(q, k)
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def by_kind(queries: list[tuple[str, IndexedPosting]], ms: list[float]) -> dict[str, list[float]]:
    """Latencies grouped by query kind, and all together."""
    out: dict[str, list[float]] = {"all": list(ms)}
    for (kind, _), elapsed in zip(queries, ms, strict=True):
        out.setdefault(kind, []).append(elapsed)
    return out


def time_rounds(
    index: MatchIndex, queries: list[tuple[str, IndexedPosting]], k: int, rounds: int
) -> tuple[list[list[float]], int]:
    """Latencies of every round, and how many garbage collections ran meanwhile."""
    before = sum(g["collections"] for g in gc.get_stats())
    runs = [time_queries(index, queries, k) for _ in range(rounds)]
    return runs, sum(g["collections"] for g in gc.get_stats()) - before


def naive(postings: list[IndexedPosting], families: Families) -> Naive:
    """A scan-and-sort matcher: postings grouped by (side, product) only, every candidate ranked."""
    buckets: dict[tuple[str, str], list[IndexedPosting]] = {}
    for p in postings:
        buckets.setdefault((p.side, p.product), []).append(p)

    def best(q: IndexedPosting, k: int) -> list[Match]:
        side = other_side(q.side)
        products = families.sellers_for(q.product) if q.side == "buy" else families.buyers_for(q.product)
        candidates = [c for prod in products for c in buckets.get((side, prod), [])]
        return rank_all(q, candidates, families)[:k]

    return best


def time_baseline(
    index: MatchIndex, naive_best: Naive, queries: list[tuple[str, IndexedPosting]], k: int
) -> list[float]:
    """Latency in ms of the naive matcher; stops the run if it disagrees with the index."""
    out = []
    for _, q in queries:
        start = time.perf_counter_ns()
        expected = naive_best(q, k)
        out.append((time.perf_counter_ns() - start) / 1e6)
        if index.best(q, k) != expected:
            raise SystemExit(f"index and naive scan disagree on {q}")
    return out


def build(
    args: argparse.Namespace,
) -> tuple[World, Families, list[IndexedPosting], MatchIndex, dict[str, float]]:
    """Generate the postings and index them, measuring time and memory."""
    products, families = products_and_families(600)
    world = World(random.Random(args.seed), products)
    gc.collect()
    rss0 = rss_bytes()
    postings = world.open_postings(args.postings)
    gc.collect()
    rss1 = rss_bytes()
    start = time.perf_counter()
    index = MatchIndex.from_postings(families, postings)
    build_s = time.perf_counter() - start
    gc.collect()
    n = len(index)
    return (
        world,
        families,
        postings,
        index,
        {
            "build_s": round(build_s, 2),
            "rss_postings_bytes_per_posting": round((rss1 - rss0) / n, 1),
            "rss_index_bytes_per_posting": round((rss_bytes() - rss1) / n, 1),
            "index_containers_bytes_per_posting": round(index_container_bytes(index) / n, 1),
            "posting_object_bytes": posting_bytes(postings[-1]),
        },
    )


def report(label: str, groups: dict[str, list[float]]) -> None:
    """Print p50/p99/max of each group."""
    for kind, ms in sorted(groups.items()):
        print(f"{label} {kind:>6} n={len(ms):>6}: {summary(ms)} ms")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its figures, the last line as JSON."""
    args = parse_args(argv)
    world, families, postings, index, built = build(args)
    print(f"postings {len(index):,}, villages {len(world.all_villages):,}, {index.stats()}")
    print(f"build {built['build_s']:.2f} s")
    queries = world.queries(args.queries, families)
    runs, collections = time_rounds(index, queries, args.k, args.rounds)
    for i, run in enumerate(runs, start=1):
        report(f"best(p, {args.k}) round {i}", {"all": run})
    steady = by_kind(queries, [min(times) for times in zip(*runs, strict=True)])
    report(f"best(p, {args.k}) min of {args.rounds} rounds", steady)
    print(f"garbage collections while querying: {collections}")
    sample = queries[: args.baseline]
    naive_ms = by_kind(sample, time_baseline(index, naive(postings, families), sample, args.k))
    report("naive scan-and-sort", naive_ms)
    print(f"memory {built}")
    figures = {
        "postings": len(index),
        "queries": len(queries),
        "seed": args.seed,
        "k": args.k,
        "query_ms_first_round": summary(runs[0]),
        "query_ms": summary(steady["all"]),
        "hot_query_ms": summary(steady["hot"]),
        "family_query_ms": summary(steady["family"]),
        "naive_ms": summary(naive_ms["all"]),
        "naive_hot_ms": summary(naive_ms.get("hot", naive_ms["all"])),
        "naive_queries": len(naive_ms["all"]),
        **built,
        "nodes": index.stats()["nodes"],
        "gc_collections_while_querying": collections,
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
