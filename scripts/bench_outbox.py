#!/usr/bin/env python3
"""Benchmark the durable outbox: enqueue N messages, dispatch them to the memory gateway.

Prints enqueue and dispatch rates, peak memory, and a baseline measured in the same run (bare
sqlite3 executemany of the same rows into a table without indexes), so figures compare across
machines. Rates are wall-clock; each phase's CPU seconds (all threads of this process) and the
load average are printed too, because on a shared machine other processes slow the wall clock
down. The last line is one JSON object of the figures. Targets on a 2-core machine:
enqueue >= 50,000 messages/s, dispatch >= 5,000 messages/s.

    python scripts/bench_outbox.py --messages 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import build_config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.outbox import Message, Outbox
from farmer_mailbox.store import SqliteStore
from gateways import GatewaySettings
from gateways.memory import MemoryGateway

CHUNK = 20_000


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def messages(start: int, stop: int) -> list[Message]:
    """Alert-like messages to distinct phones, numbered start..stop-1."""
    return [Message(idem_key=f"bench:{i}", purpose="alert", address=f"139{i:08d}", template_key="help",
                    params={}, user_id=None) for i in range(start, stop)]


def baseline(rows: list[tuple[str, str]], path: Path) -> float:
    """Bare sqlite3 executemany of (key, address) rows: the floor we compare enqueue against."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (k TEXT, a TEXT, p TEXT)")
    start = time.perf_counter()
    for i in range(0, len(rows), CHUNK):
        conn.executemany("INSERT INTO t VALUES (?, ?, '{}')", rows[i:i + CHUNK])
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


async def run(n: int, batch: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.db")
        await store.migrate()
        clock = ManualClock(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))  # 12:00 in Shanghai: no quiet hours
        config = build_config({
            "service": {"database": store.path}, "gateways": {"mem": {"type": "memory"}},
            "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
            "outbox": {"batch_size": batch, "concurrency": concurrency, "per_recipient_hour": 1000,
                       "per_recipient_day": 1000},
        }, env={})
        async with httpx.AsyncClient() as client:
            gateway = MemoryGateway(GatewaySettings("mem", "memory", {}), client)
            outbox = Outbox(store, GatewayRouter.from_config(config, {"mem": gateway}), config, clock,
                            rng=random.Random(1))
            start, cpu = time.perf_counter(), time.process_time()
            for i in range(0, n, CHUNK):
                async with store.transaction() as tx:
                    await tx.enqueue(outbox.rows(messages(i, min(i + CHUNK, n))))
            enqueue_s, enqueue_cpu = time.perf_counter() - start, time.process_time() - cpu
            print(f"enqueued {n:,} in {enqueue_s:.1f} s ({n / enqueue_s:,.0f}/s); dispatching ...", flush=True)
            start, cpu = time.perf_counter(), time.process_time()
            done, next_report = 0, 0.0
            while handled := await outbox.dispatch_once():
                done += handled
                gateway.sent.clear()  # the twin keeps every send; a real provider would not
                gateway.attempts.clear()
                gateway.results.clear()
                gateway.by_id.clear()
                if time.perf_counter() - start > next_report:
                    print(f"  dispatched {done:,}/{n:,}", flush=True)
                    next_report += 5
            dispatch_s, dispatch_cpu = time.perf_counter() - start, time.process_time() - cpu
            counts = await store.outbox_status_counts()
        await store.close()
        rows = [(f"bench:{i}", f"139{i:08d}") for i in range(n)]
        base = baseline(rows, Path(tmp) / "baseline.db")
    assert counts == {"sent": n}, counts
    return {"messages": n, "enqueue_per_s": round(n / enqueue_s), "dispatch_per_s": round(n / dispatch_s),
            "enqueue_s": round(enqueue_s, 2), "dispatch_s": round(dispatch_s, 2),
            "enqueue_cpu_s": round(enqueue_cpu, 2), "dispatch_cpu_s": round(dispatch_cpu, 2),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "baseline_sqlite_insert_per_s": round(base), "peak_rss_mb": round(peak_rss_mb(), 1),
            "batch_size": batch, "concurrency": concurrency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="rows claimed per dispatch round")
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    figures = asyncio.run(run(args.messages, args.batch, args.concurrency))
    print(f"enqueue:  {figures['enqueue_per_s']:>9,} msg/s  (target >= 50,000; bare sqlite insert "
          f"{figures['baseline_sqlite_insert_per_s']:,}/s)")
    print(f"dispatch: {figures['dispatch_per_s']:>9,} msg/s  (target >= 5,000)")
    print(f"CPU:      enqueue {figures['enqueue_cpu_s']} s, dispatch {figures['dispatch_cpu_s']} s "
          f"(load average at the end {figures['load_average_1m']} on {os.cpu_count()} CPUs)")
    print(f"peak RSS: {figures['peak_rss_mb']} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
