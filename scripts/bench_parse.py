"""Benchmark: messages per second through `parse` against bare `jieba.lcut`, in the same run.

Messages are the labelled corpus in tests/data (texts only), cycled to --messages; each rate is
the best of --rounds passes in process CPU time, jieba and parse timed in alternation (the
machine is shared: CPU time and the best pass are the least disturbed by other work). Also measured:
the cold first parse (jieba dictionary load + lexicon) and the first parse with a resolver that
knows 45,000 village names (the index is built on first use). The last line is one JSON object.

    /work/venv/bin/python scripts/bench_parse.py [--messages 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from farmer_mailbox.text import Location, parse  # noqa: E402

_CHARS = "杨高王李张刘陈周吴郑孙马朱胡林何高罗梁宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
_TAILS = "家桥河山塘湾岭坑头田岙溪"


class VillageResolver:
    """A stand-in for the lead's resolver: 45,000 synthetic village names, resolved by lookup."""

    def __init__(self, count: int = 45_000) -> None:
        names = ("".join(p) + "村" for p in itertools.product(_CHARS, _CHARS, _TAILS))
        self._names = list(itertools.islice(names, count))
        self._codes = {name: f"3302820{i:05d}" for i, name in enumerate(self._names)}

    def known_names(self) -> Iterable[str]:
        return self._names

    def resolve(self, mention: str, home_code: str | None) -> Location | None:
        code = self._codes.get(mention)
        return Location(mention, code, mention, "village") if code else None


def corpus_texts() -> list[str]:
    texts = []
    for name in ("corpus_dev.tsv", "corpus_holdout.tsv"):
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                texts.append(line.split("\t")[0])
    return texts


def rates(functions: list[Callable[[str], object]], messages: list[str], rounds: int) -> list[float]:
    """Best messages-per-second of each function, timed in alternation so both see the same load."""
    best = [0.0] * len(functions)
    for _ in range(rounds):
        for i, function in enumerate(functions):
            gc.collect()
            start = time.process_time()
            for message in messages:
                function(message)
            best[i] = max(best[i], len(messages) / (time.process_time() - start))
    return best


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--messages", type=int, default=1500)
    options.add_argument("--rounds", type=int, default=15)
    args = options.parse_args()
    texts = corpus_texts()
    messages = list(itertools.islice(itertools.cycle(texts), args.messages))

    start = time.perf_counter()
    parse(texts[0])
    first_parse = time.perf_counter() - start
    resolver = VillageResolver()
    start = time.perf_counter()
    with_places = parse("卖葡萄苗五百株 杨高家村", places=resolver)
    first_with_places = time.perf_counter() - start

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    jieba_rate, parse_rate, places_rate = rates(
        [jieba.lcut, parse, lambda m: parse(m, places=resolver)], messages, args.rounds
    )

    figures = {
        "messages": len(messages),
        "distinct_messages": len(texts),
        "jieba_lcut_msgs_per_s": round(jieba_rate),
        "parse_msgs_per_s": round(parse_rate),
        "parse_with_45k_places_msgs_per_s": round(places_rate),
        "ratio_parse_to_jieba": round(parse_rate / jieba_rate, 3),
        "target_ratio": 0.5,
        "first_parse_s": round(first_parse, 3),
        "first_parse_with_45k_places_s": round(first_with_places, 3),
        "place_resolved": bool(with_places.postings and with_places.postings[0].location),
    }
    print(f"baseline jieba.lcut (HMM default): {jieba_rate:,.0f} messages/s")
    print(f"parse (no resolver):               {parse_rate:,.0f} messages/s")
    print(f"parse (45,000 village names):      {places_rate:,.0f} messages/s")
    print(f"ratio parse/jieba: {parse_rate / jieba_rate:.2f} (target >= 0.50)")
    print(f"cold first parse: {first_parse:.2f} s; first parse with 45k places: {first_with_places:.3f} s")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
