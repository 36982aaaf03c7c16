"""Crash safety: SIGKILL the serving process while 10,000 messages dispatch, restart it, lose nothing.

The real `python -m farmer_mailbox serve` runs as a subprocess on a SQLite file, with an `http`
gateway pointed at a counting aggregator in this test process (loopback). 10,000 urgent warnings
are committed to the outbox first (the store API on the same file). The aggregator SIGKILLs the
service from inside its handler at the 1,550th request, so a batch is certainly mid-flight, and
the test restarts the service and waits until the outbox is empty.

The bound on duplicates: the dispatcher claims one batch (`outbox.batch_size`, 100 here) at a
time, marks it `sending`, sends it (at most `outbox.concurrency` at once) and records the whole
batch in one transaction. A kill loses at most the bookkeeping of that one claimed batch, so the
aggregator can see at most 100 messages twice, and only messages that were `sending` at the kill.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from farmer_mailbox.store import SqliteStore
from farmer_mailbox.store.sql_outbox import NewOutbound
from tests.helpers import TEST_ENV

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 10_000
BATCH = 100             # outbox.batch_size below: the most that can be in flight when the process dies
CONCURRENCY = 8         # outbox.concurrency below
KILL_AT = 1_550         # the aggregator's request count at which it kills the service (mid-batch)
TOKEN = "crash-test-token"


class Aggregator:
    """An SMS aggregator on loopback that counts every outbox id it is sent and answers success."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.victim: subprocess.Popen[bytes] | None = None
        self.killed = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ConnectionResetError:                  # a request cut off by the kill never arrived
            return web.Response(status=499)
        self.received.append(int(body["outbox_id"]))
        if len(self.received) == KILL_AT and self.victim is not None:
            self.victim.send_signal(signal.SIGKILL)   # the batch this request belongs to is mid-flight
            self.killed.set()
        await asyncio.sleep(0.002)                    # a little provider latency keeps sends overlapping
        return web.json_response({"code": "OK"})

    async def __aenter__(self) -> Aggregator:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=256)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def aggregator() -> AsyncIterator[Aggregator]:
    async with Aggregator() as agg:
        yield agg


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(path: Path, database: Path, aggregator_port: int) -> Path:
    """A service config: the http gateway to the aggregator, small batches, no background jobs."""
    path.write_text(f"""
[service]
database = "{database}"
port = {_free_port()}
log_level = "WARNING"

[outbox]
batch_size = {BATCH}
concurrency = {CONCURRENCY}

[routes]
replies = ["agg"]
matches = ["agg"]
alerts = ["agg"]

[alerts]
pest_calendar = false

[weather]
forecast_provider = "none"

[gateways.agg]
type = "http"
send_url = "http://127.0.0.1:{aggregator_port}/send"
fields = {{ to = "to", text = "text", outbox_id = "outbox_id" }}
webhook_token_env = "AGG_WEBHOOK_TOKEN"
""", encoding="utf-8")
    return path


async def enqueue_warnings(database: Path, count: int) -> None:
    """Commit `count` urgent weather warnings to distinct phones, as an alert fan-out would."""
    now = datetime.now(UTC)
    params = {"sender": "慈溪市气象台", "event": "暴雨", "colour": "红色", "detail": "请立即转移低洼地带人员。"}
    rows = [NewOutbound(f"crash:{i}", "alert", 0, True, "sms", f"1390{i:07d}", None, "weather_warning", params,
                        now, now + timedelta(hours=2), now) for i in range(count)]
    store = await SqliteStore.open(database)
    try:
        async with store.transaction() as tx:
            assert await tx.enqueue(rows) == count
    finally:
        await store.close()


def serve(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start `python -m farmer_mailbox serve` from this checkout."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, **TEST_ENV, "AGG_WEBHOOK_TOKEN": TOKEN, "PYTHONPATH": path}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "farmer_mailbox", "--config", str(config), "serve"],
                                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def outbox_state(database: Path) -> dict[str, list[int]]:
    """Outbox ids by status, read straight from the file."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT status, id FROM outbox ORDER BY id").fetchall()
    conn.close()
    state: dict[str, list[int]] = {}
    for status, outbox_id in rows:
        state.setdefault(status, []).append(outbox_id)
    return state


async def until(condition: str, check: object, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll `check()` until true; fail with the service's log if it dies or time runs out."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None or time.monotonic() > deadline:
            why = f"exited with {proc.returncode}" if proc.returncode is not None else f"not within {timeout:g} s"
            pytest.fail(f"{condition}: service {why}\n{log.read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(0.1)


async def test_sigkill_mid_dispatch_loses_nothing_and_duplicates_stay_in_the_window(
        db_path: Path, tmp_path: Path, aggregator: Aggregator) -> None:
    config = write_config(tmp_path / "config.toml", db_path, aggregator.port)
    log = tmp_path / "serve.log"
    await enqueue_warnings(db_path, MESSAGES)

    first = aggregator.victim = serve(config, log)
    try:
        await until("the aggregator kills the service", aggregator.killed.is_set, first, log, timeout=30)
    finally:
        first.kill()
        await asyncio.to_thread(first.wait)
    assert first.returncode == -signal.SIGKILL
    at_kill = outbox_state(db_path)
    in_flight = set(at_kill.get("sending", []))
    assert 0 < len(in_flight) <= BATCH, {k: len(v) for k, v in at_kill.items()}   # killed mid-batch
    assert len(at_kill["sent"]) >= KILL_AT - BATCH

    second = serve(config, log)
    try:
        await until("every message sent after the restart",
                    lambda: len(outbox_state(db_path).get("sent", [])) == MESSAGES, second, log, timeout=40)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 15)
    assert second.returncode == 0, log.read_text(errors="replace")[-3000:]

    final = outbox_state(db_path)
    assert {k: len(v) for k, v in final.items()} == {"sent": MESSAGES}          # nothing left sending
    times = Counter(aggregator.received)
    assert set(times) == set(final["sent"])                                     # every message reached it
    twice = {outbox_id for outbox_id, n in times.items() if n > 1}
    assert max(times.values()) <= 2 and twice <= in_flight and len(twice) <= BATCH
    with sqlite3.connect(db_path) as conn:
        attempts = dict(conn.execute("SELECT id, attempts FROM outbox").fetchall())
        recorded = conn.execute("SELECT COUNT(*) FROM message_log WHERE kind = 'outbound'").fetchone()[0]
    conn.close()
    assert {i for i, n in attempts.items() if n == 2} == in_flight and set(attempts.values()) == {1, 2}
    assert recorded == MESSAGES                                                 # the record shows each once
    print(f"\ncrash test: {len(in_flight)} in flight at the kill, {len(twice)} sent twice "
          f"(bound {BATCH}), {len(aggregator.received)} requests for {MESSAGES} messages")
