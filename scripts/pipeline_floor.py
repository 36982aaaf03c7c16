"""The storage floor under bench_pipeline: the rows one inbound message causes, written by bare sqlite3.

bench_pipeline measures the whole service. This measures only what its database must absorb for
the same traffic, written the cheapest way Python can: every table's rows for a batch of
messages in one `executemany`, one transaction per batch, no parsing, matching, HTTP, asyncio or
rendering. The per-message row counts are read from the database the service just wrote (so the
floor follows what the code does today), and the rows go into a copy of it (same indexes, same
200,000 postings and 100,000 users), so B-trees have their real sizes.

What one message costs there, measured on the live run's database:
- the inbound row, its record entry (hash-chained), its status update;
- its posting, the posting's stored matches, pair-dedup notices and LX numbers;
- its outbox rows, each then claimed (sending), marked sent, and recorded (hash-chained).
Checkpoints are left out (the service runs them in a thread of their own; with SQLite's
auto-checkpoint on, the floor drops by a further quarter or so), so the floor is generous: no
service that keeps this schema on one SQLite writer can process messages faster than this.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

FLOOR_BATCH = 200   # messages per transaction (the service's inbox batch)


@dataclass(frozen=True)
class RowsPerMessage:
    """What the live run wrote, per inbound message."""

    postings: float
    matches: float
    notices: float
    refs: float
    outbox: float

    def row_count(self) -> float:
        """Rows inserted per message (inbound, its record, and the outbox's records included)."""
        return 2 + self.postings + self.matches + self.notices + self.refs + 2 * self.outbox


def essential(per: RowsPerMessage) -> RowsPerMessage:
    """The least any design could write for the same traffic and the issue's rules.

    Kept: the inbound message and its record, the posting, every SMS sent (outbox row and its
    record) and, per notice sent, one row saying the pair was told (the same pair is never told
    twice). Dropped: the stored matches WD n lists, the LX numbers, and the folded notices the
    digest counts. One reply per message, so the notices sent are the outbox rows less one.
    """
    return RowsPerMessage(postings=per.postings, matches=0.0, notices=max(0.0, per.outbox - 1), refs=0.0,
                          outbox=per.outbox)


def rows_per_message(database: Path, messages: int) -> RowsPerMessage:
    """Read the per-message row counts from the run's database (postings loaded by the bench excluded)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        def count(sql: str) -> float:
            return float(db.execute(sql).fetchone()[0]) / messages

        return RowsPerMessage(
            postings=count("SELECT COUNT(*) FROM postings WHERE inbound_id IS NOT NULL"),
            matches=count("SELECT COUNT(*) FROM matches"), notices=count("SELECT COUNT(*) FROM match_notices"),
            refs=count("SELECT COUNT(*) FROM match_refs"), outbox=count("SELECT COUNT(*) FROM outbox"))


def _spread(rnd: random.Random, mean: float) -> int:
    """An integer count averaging `mean` (floor plus a chance of one more)."""
    whole = int(mean)
    return whole + (rnd.random() < mean - whole)


def _chain(prev: str, *values: object) -> str:
    return hashlib.sha256("\x1f".join([prev, *map(str, values)]).encode()).hexdigest()


def floor_rate(database: Path, scratch: Path, messages: int, per: RowsPerMessage, *, dispatch: bool = True,
               seed: int = 1) -> float:
    """Messages per second the bare writes of `per` sustain, `messages` of them, on a copy of `database`.

    `dispatch=False` leaves out the outbox's own writes (claim, sent, record), so the figure
    compares with the pipeline's "processed" rate: replies and notices queued, not yet sent.
    """
    shutil.copyfile(database, scratch)
    rnd = random.Random(seed)
    db = sqlite3.connect(scratch, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "wal_autocheckpoint=0"):
        db.execute(f"PRAGMA {pragma}")
    users = int(db.execute("SELECT MAX(id) FROM users").fetchone()[0])
    posting_top = int(db.execute("SELECT MAX(id) FROM postings").fetchone()[0])
    log_top = int(db.execute("SELECT MAX(id) FROM message_log").fetchone()[0])
    head = str(db.execute("SELECT hash FROM message_log ORDER BY id DESC LIMIT 1").fetchone()[0])
    inbound_top = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM inbound").fetchone()[0])
    match_top = int(db.execute("SELECT MAX(id) FROM matches").fetchone()[0])
    outbox_top = int(db.execute("SELECT MAX(id) FROM outbox").fetchone()[0])
    ref_top = dict(db.execute("SELECT user_id, MAX(n) FROM match_refs GROUP BY user_id").fetchall())
    stamp = "2026-12-01T10:00:00.000000Z"
    text = "卖葡萄苗五百斤 每斤3块5"
    notice = '{"what":"出售葡萄苗500斤3.5元/斤","place":"横河镇子陵村","n":"1"}'
    started = time.perf_counter()
    for first in range(0, messages, FLOOR_BATCH):
        count = min(FLOOR_BATCH, messages - first)
        logs, inbound, done, postings, matches, notices, refs, outbox, sent = [], [], [], [], [], [], [], [], []
        for _ in range(count):
            inbound_top += 1
            log_top += 1
            user = rnd.randrange(1, users + 1)
            head = _chain(head, log_top, stamp, "inbound", user, text)
            logs.append((log_top, stamp, "inbound", "sms", user, "13800000000", text, "mem", f"x{inbound_top}",
                         "", head, head))
            inbound.append((inbound_top, "mem", f"floor-{inbound_top}", "sms", "13800000000", text, stamp, user,
                            log_top))
            done.append((inbound_top,))
            for _ in range(_spread(rnd, per.postings)):
                posting_top += 1
                postings.append((posting_top, user, "sell", "葡萄苗", "苗木", 500, "斤", 500, "斤", 3.5, "元/斤",
                                 "[]", "330282101201", text, "open", stamp, stamp, posting_top, inbound_top))
            for _ in range(_spread(rnd, per.matches)):
                match_top += 1
                matches.append((match_top, posting_top, rnd.randrange(1, posting_top), 2, stamp))
            for _ in range(_spread(rnd, per.notices)):
                notices.append((rnd.randrange(1, users + 1), user, f"p{rnd.randrange(10**9)}", match_top,
                                "2026-12-01", 1))
            for _ in range(_spread(rnd, per.refs)):
                other = rnd.randrange(1, users + 1)
                ref_top[other] = ref_top.get(other, 0) + 1
                refs.append((other, ref_top[other], match_top, stamp))
            for _ in range(_spread(rnd, per.outbox)):
                outbox_top += 1
                outbox.append((outbox_top, f"floor:{outbox_top}", "match", 1, "sms", "13800000001", user,
                               "match_notice", notice, stamp, stamp, stamp))
                sent.append((f"mem-{outbox_top}", stamp, outbox_top))
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO message_log (id, at, kind, channel, user_id, address, text, gateway, "
                       "external_id, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", logs)
        db.executemany("INSERT INTO inbound (id, gateway, external_id, channel, sender, text, received_at, user_id, "
                       "log_id) VALUES (?,?,?,?,?,?,?,?,?)", inbound)
        db.execute("COMMIT")   # the webhook's group commit
        db.execute("BEGIN IMMEDIATE")
        db.executemany("UPDATE inbound SET status = 'done' WHERE id = ?", done)
        db.executemany("INSERT INTO postings (id, user_id, side, product, category, quantity, unit, base_quantity, "
                       "base_unit, price, price_unit, quality, region_code, text, status, created_at, expires_at, "
                       "changed, inbound_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", postings)
        db.executemany("INSERT OR IGNORE INTO matches (id, buy_id, sell_id, distance, created_at) VALUES (?,?,?,?,?)",
                       matches)
        db.executemany("INSERT OR IGNORE INTO match_notices (user_id, other_user_id, product, match_id, day, sent) "
                       "VALUES (?,?,?,?,?,?)", notices)
        db.executemany("INSERT OR IGNORE INTO match_refs (user_id, n, match_id, created_at) VALUES (?,?,?,?)", refs)
        db.executemany("INSERT INTO outbox (id, idem_key, purpose, priority, channel, address, user_id, "
                       "template_key, params, due_at, expires_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       outbox)
        db.execute("COMMIT")   # the conversation's writes
        if not dispatch:
            continue
        db.execute("BEGIN IMMEDIATE")
        db.executemany("UPDATE outbox SET status = 'sending', lease_until = ?3, attempts = attempts + 1 "
                       "WHERE id = ?3 AND ?1 = ?1 AND ?2 = ?2", sent)
        db.execute("COMMIT")   # the dispatcher's claim
        records = []
        for external, _, outbox_id in sent:
            log_top += 1
            head = _chain(head, log_top, stamp, "outbound", outbox_id, notice)
            records.append((log_top, stamp, "outbound", "sms", None, "13800000001", notice, "mem", external,
                            "", head, head))
        db.execute("BEGIN IMMEDIATE")
        db.executemany("UPDATE outbox SET status = 'sent', gateway = 'mem', external_id = ?1, sent_at = ?2, "
                       "segments = 1, lease_until = NULL WHERE id = ?3", sent)
        db.executemany("INSERT INTO message_log (id, at, kind, channel, user_id, address, text, gateway, "
                       "external_id, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", records)
        db.execute("COMMIT")   # the dispatcher's outcomes
    elapsed = time.perf_counter() - started
    db.close()
    return messages / elapsed


def bare_webhook(port: int) -> None:
    """An aiohttp server that reads each webhook's JSON and answers "ok", storing nothing.

    Run as its own process (`python scripts/pipeline_floor.py PORT`), it shows what HTTP alone
    costs with bench_pipeline's client on this machine: the ceiling of the web layer.
    """
    import json

    from aiohttp import web

    async def inbound(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.Response(text="ok")

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/mem/inbound", inbound)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    import sys

    bare_webhook(int(sys.argv[1]))
