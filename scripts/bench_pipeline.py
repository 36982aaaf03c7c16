#!/usr/bin/env python3
"""Benchmark the whole inbound pipeline: SMS per second through the HTTP webhook of a running service.

Set-up: a scratch SQLite database with the packaged regions, 100,000 registered users and 200,000
open postings (bulk-loaded with SQL: set-up is not what is measured). The service runs as its own
process (`farmer-mailbox serve`, memory gateway, workers on: parse, store, match, replies queued
and dispatched) and this process posts farmer-style messages to /hooks/mem/inbound, 64 at a time,
over keep-alive connections with a bare HTTP/1.1 client (so the bench itself stays light).

Figures: webhook messages per second (first post until every message is processed), webhook ack
latency p50/p99, the service's CPU seconds per message and the outbox backlog left when the last
message was processed, the rate counting until every reply and notice was handed to the gateway
(the outbox drained) and the CPU per message by then, end-to-end latency p50/p99 (received until
its reply is queued, from the database), the bare jieba rate on the same messages (baseline), and
the matching latency at 1,000,000 postings (scripts/bench_matching.py, run alongside). Last line: one JSON object.
Targets: >= 2,000 messages/s; matching p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from farmer_mailbox.clock import from_db, to_db  # noqa: E402
from farmer_mailbox.config import build_config  # noqa: E402
from farmer_mailbox.services import open_services  # noqa: E402
from farmer_mailbox.text import parse  # noqa: E402
from farmer_mailbox.text.lexicon import load_lexicon  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from pipeline_floor import FLOOR_BATCH, essential, floor_rate, rows_per_message  # noqa: E402

CONCURRENCY = 64


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--matching-postings", type=int, default=1_000_000,
                        help="postings for the matching latency run (0 skips it)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=None,
                        help="sample the service with py-spy (on PATH, or $PY_SPY) into this file (raw stacks)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="copy the database here afterwards, to look at what the run wrote")
    return parser.parse_args(argv)


def products() -> list[str]:
    """Products farmers trade, most common first (a skewed choice makes matches happen)."""
    return [p.name for p in load_lexicon().products() if p.category not in ("劳务", "其他")]


async def prepare_database(path: Path) -> list[str]:
    """Migrate and load the regions; return the village codes."""
    config = build_config({"service": {"database": str(path), "demo": True}}, env={})
    services = await open_services(config, env={})
    await services.close()
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT code FROM regions WHERE level = 5")]


def load_people_and_postings(path: Path, args: argparse.Namespace, rnd: random.Random,
                             villages: list[str], names: list[str]) -> list[str]:
    """Bulk-insert users and open postings; return the users' phones."""
    now = datetime.now(UTC)
    stamp = to_db(now)
    phones = [f"138{i:08d}" for i in range(args.users)]
    homes = [rnd.choice(villages) for _ in phones]
    weights = [1 / (rank + 1) for rank in range(len(names))]
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO users (name, phone, id_cipher, id_hash, id_masked, village_code, role, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'farmer', 'active', ?, ?)",
            ((f"农户{i}", phone, os.urandom(16), f"bench{i}", "330282********0000", homes[i], stamp, stamp)
             for i, phone in enumerate(phones)))
        chosen = rnd.choices(names, weights, k=args.postings)

        def rows() -> object:
            for n, product in enumerate(chosen):
                user = rnd.randrange(args.users)
                created = now - timedelta(minutes=rnd.randrange(20 * 24 * 60))
                qty = rnd.choice((100, 300, 500, 1000, 2000, 5000))
                yield (user + 1, rnd.choice(("sell", "buy")), product, "粮油", qty, "斤", qty, "斤",
                       round(rnd.uniform(1, 9), 1), "元/斤", "[]", homes[user], "bench", "open", to_db(created),
                       to_db(created + timedelta(days=30)), n + 1)

        db.executemany(
            "INSERT INTO postings (user_id, side, product, category, quantity, unit, base_quantity, base_unit, "
            "price, price_unit, quality, region_code, text, status, created_at, expires_at, changed) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())  # type: ignore[arg-type]
    return phones


def messages(rnd: random.Random, count: int, names: list[str], phones: list[str]) -> list[tuple[str, str]]:
    """(phone, text) pairs as farmers write them: postings mostly, some commands."""
    weights = [1 / (rank + 1) for rank in range(len(names))]
    out = []
    for _ in range(count):
        product = rnd.choices(names, weights)[0]
        roll = rnd.random()
        if roll < 0.45:
            amount = rnd.choice(("五百", "300", "两千", "1000"))
            text = f"卖{product}{amount}斤 每斤{rnd.randint(1, 9)}块{rnd.randint(0, 9)}"
        elif roll < 0.9:
            text = rnd.choice((f"求购{product}2000斤", f"收{product}两吨 价钱好商量", f"买{product}"))
        else:
            text = rnd.choice(("WD", f"JG {product}", "BZ"))
        out.append((rnd.choice(phones), text))
    return out


def write_config(path: Path, database: Path) -> None:
    path.write_text(
        f'[service]\ndatabase = "{database}"\ndemo = true\nlog_level = "WARNING"\n'
        '[outbox]\nquiet_start = "00:00"\nquiet_end = "00:00"\n'   # no quiet hours: the drain must not wait for 07:00
        '[gateways.mem]\ntype = "memory"\n'
        '[routes]\nreplies = ["mem"]\nmatches = ["mem"]\nalerts = ["mem"]\n', encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _request(host: str, port: int, method: str, path: str, body: bytes = b"",
                   conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None,
                   ) -> tuple[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """One HTTP/1.1 request on a keep-alive connection (opened if `conn` is None); (status, conn).

    A bare client on purpose: a full one (httpx) costs the bench process more CPU per request
    than the service spends on it, and on a small machine the two share the cores.
    """
    reader, writer = conn or await asyncio.open_connection(host, port)
    head = (f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    writer.write(head + body)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the service closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status, (reader, writer)


async def wait_ready(host: str, port: int, timeout: float = 120.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            status, (_, writer) = await _request(host, port, "GET", "/healthz")
            writer.close()
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError("the service did not come up")


async def fire(host: str, port: int, batch: list[tuple[str, str]]) -> list[float]:
    """Post every message to the webhook, CONCURRENCY at a time; return ack latencies (ms)."""
    latencies: list[float] = []
    bodies = [json.dumps([{"id": f"bench-{n}", "from": phone, "text": text}], ensure_ascii=False).encode()
              for n, (phone, text) in enumerate(batch)]
    queue = iter(bodies)

    async def worker() -> None:
        conn = None
        for body in queue:
            started = time.perf_counter()
            status, conn = await _request(host, port, "POST", "/hooks/mem/inbound", body, conn)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"webhook answered {status}")
        if conn is not None:
            conn[1].close()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def outbox_backlog(database: Path) -> int:
    """Outbox rows not yet handed to a gateway (queued, errored, sending)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'errored', 'sending')")
                   .fetchone()[0])


def start_profiler(pid: int, out: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the service (non-blocking, raw collapsed stacks), or None without `out`."""
    if out is None:
        return None
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy") or "py-spy"
    return subprocess.Popen([spy, "record", "--nonblocking", "--format", "raw", "--rate", "200",
                             "-o", str(out), "-p", str(pid)], stdout=subprocess.DEVNULL)


def pending(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM inbound WHERE status = 'received'").fetchone()[0])


def end_to_end_ms(database: Path) -> list[float]:
    """Received until the first reply was queued, per message (from the database's own times)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT i.received_at, o.created_at FROM inbound i JOIN outbox o "
                          "ON o.idem_key = 'in:' || i.id || ':0' WHERE i.gateway = 'mem'").fetchall()
    return [(from_db(done) - from_db(got)).total_seconds() * 1000 for got, done in rows]


def bare_jieba_rate(texts: list[str]) -> float:
    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    started = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return len(texts) / (time.perf_counter() - started)


def parser_rate(texts: list[str]) -> float:
    """Our parser on the same messages (no place lookup: a little kinder than the service's)."""
    parse(texts[0])
    started = time.perf_counter()
    for text in texts:
        parse(text)
    return len(texts) / (time.perf_counter() - started)


async def bare_http_rate(batch: list[tuple[str, str]]) -> float:
    """The same client against a web server that stores nothing (pipeline_floor.bare_webhook): msg/s."""
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "pipeline_floor.py"), str(port)])
    try:
        await wait_ready("127.0.0.1", port)
        started = time.perf_counter()
        await fire("127.0.0.1", port, batch)
        return len(batch) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)


def ceiling(parts_ms: dict[str, float]) -> float:
    """Messages per second of one core doing nothing but these parts, one after another."""
    return 1000 / sum(parts_ms.values())


def matching_run(postings: int) -> dict[str, object]:
    if postings <= 0:
        return {}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_matching.py"), "--postings", str(postings),
                           "--queries", "5000", "--rounds", "3"], capture_output=True, text=True, check=True)
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rnd = random.Random(args.seed)
    names = products()
    rnd.shuffle(names)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        villages = await prepare_database(database)
        phones = load_people_and_postings(database, args, rnd, villages, names)
        print(f"loaded {args.users:,} users and {args.postings:,} open postings in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        batch = messages(rnd, args.messages, names, phones)
        config = Path(tmp) / "bench.toml"
        write_config(config, database)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "farmer_mailbox", "--config", str(config), "serve",
                                   "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            host = "127.0.0.1"
            ready = await wait_ready(host, port)
            print(f"service up in {ready:.1f} s (index of {args.postings:,} postings built at start)", flush=True)
            spy = start_profiler(server.pid, args.profile)
            cpu0 = cpu_seconds(server.pid)
            t0 = time.perf_counter()
            acks = await fire(host, port, batch)
            acked = time.perf_counter() - t0
            while pending(database):
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            cpu = cpu_seconds(server.pid) - cpu0
            backlog = outbox_backlog(database)
            while outbox_backlog(database) and time.perf_counter() - t0 < elapsed * 10 + 60:
                await asyncio.sleep(0.1)
            drained = time.perf_counter() - t0
            left = outbox_backlog(database)
            cpu_drained = cpu_seconds(server.pid) - cpu0
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
        finally:
            server.terminate()
            server.wait(timeout=30)
        e2e = end_to_end_ms(database)
        per = rows_per_message(database, args.messages)
        scratch, floor_messages = Path(tmp) / "floor.sqlite3", min(args.messages, 4000)
        floor_queued = floor_rate(database, scratch, floor_messages, per, dispatch=False)
        floor_sent = floor_rate(database, scratch, floor_messages, per, dispatch=True)
        floor_least = floor_rate(database, scratch, floor_messages, essential(per), dispatch=True)
        if args.keep is not None:
            with sqlite3.connect(database) as src, sqlite3.connect(args.keep) as dst:
                src.backup(dst)
    rate = args.messages / elapsed
    print(f"webhook: {args.messages:,} messages in {elapsed:.2f} s = {rate:,.0f} msg/s processed "
          f"(acked at {args.messages / acked:,.0f} msg/s)")
    print(f"  service CPU {cpu:.1f} s = {cpu / args.messages * 1000:.2f} ms per message; outbox backlog "
          f"{backlog:,} rows when the last message was processed")
    if left:
        print(f"  the outbox was NOT drained: {left:,} rows still waiting after {drained:.2f} s "
              "(dispatched_msgs_per_s is a floor)")
    else:
        print(f"  every reply and notice handed to the gateway after {drained:.2f} s = "
              f"{args.messages / drained:,.0f} msg/s "
              f"(service CPU {cpu_drained / args.messages * 1000:.2f} ms per message, outbox included)")
    print(f"  ack latency p50 {percentile(acks, 0.5):.1f} ms, p99 {percentile(acks, 0.99):.1f} ms")
    print(f"  end-to-end (received -> reply queued) p50 {percentile(e2e, 0.5):.1f} ms, "
          f"p99 {percentile(e2e, 0.99):.1f} ms over {len(e2e):,} messages")
    jieba_rate = bare_jieba_rate([t for _, t in batch])
    print(f"baseline: bare jieba.lcut on the same messages {jieba_rate:,.0f} msg/s")
    parse_rate = parser_rate([t for _, t in batch])
    print(f"baseline: our parser on the same messages {parse_rate:,.0f} msg/s")
    http_rate = await bare_http_rate(batch)
    print(f"baseline: the same client against an aiohttp server that stores nothing {http_rate:,.0f} msg/s")
    print(f"floor: the {per.row_count():.0f} rows the run wrote per message (matches {per.matches:.1f}, notices "
          f"{per.notices:.1f}, LX numbers {per.refs:.1f}, outbox {per.outbox:.1f}), by bare sqlite3, "
          f"{FLOOR_BATCH} messages a transaction: {floor_queued:,.0f} msg/s queued, {floor_sent:,.0f} msg/s "
          "with the outbox's writes (claim, sent, record)")
    matching = matching_run(args.matching_postings)
    if matching:
        print(f"matching at {args.matching_postings:,} postings: {json.dumps(matching, ensure_ascii=False)[:300]}")
    print(f"floor: only the {essential(per).row_count():.0f} rows any design must write per message (no stored "
          f"matches, LX numbers or folded notices), with the outbox's writes: {floor_least:,.0f} msg/s")
    parts = {"http": 1000 / http_rate, "parse": 1000 / parse_rate}
    query_ms = matching.get("query_ms")
    if isinstance(query_ms, dict):
        parts["match"] = float(query_ms["p50"])   # at --matching-postings, not the 200,000 of this run
    top = ceiling({**parts, "writes": 1000 / floor_sent})
    least = ceiling({**parts, "writes": 1000 / floor_least})
    print(f"ceiling: one core doing only {' + '.join(f'{k} {v:.3f} ms' for k, v in parts.items())} + the writes "
          f"per message, nothing else: {top:,.0f} msg/s sustained; {least:,.0f} msg/s with only the rows any "
          "design must write (the service runs on one core: one event loop, one SQLite writer)")
    figures = {
        "users": args.users, "postings": args.postings, "messages": args.messages,
        "webhook_msgs_per_s": round(rate, 1), "acked_msgs_per_s": round(args.messages / acked, 1),
        "server_cpu_ms_per_msg": round(cpu / args.messages * 1000, 3), "outbox_backlog": backlog,
        "dispatched_msgs_per_s": round(args.messages / drained, 1), "outbox_drained": not left,
        "server_cpu_ms_per_msg_with_outbox": round(cpu_drained / args.messages * 1000, 3),
        "ack_p50_ms": round(percentile(acks, 0.5), 2), "ack_p99_ms": round(percentile(acks, 0.99), 2),
        "e2e_p50_ms": round(percentile(e2e, 0.5), 2), "e2e_p99_ms": round(percentile(e2e, 0.99), 2),
        "bare_jieba_msgs_per_s": round(jieba_rate, 1), "parser_msgs_per_s": round(parse_rate, 1),
        "bare_http_msgs_per_s": round(http_rate, 1), "floor_queued_msgs_per_s": round(floor_queued, 1),
        "floor_with_dispatch_msgs_per_s": round(floor_sent, 1), "rows_per_msg": round(per.row_count(), 1),
        "floor_essential_with_dispatch_msgs_per_s": round(floor_least, 1),
        "single_core_ceiling_msgs_per_s": round(top, 1), "essential_single_core_ceiling_msgs_per_s": round(least, 1),
        "matching": matching,
        "target_msgs_per_s": 2000, "meets_rate_target": rate >= 2000,
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
