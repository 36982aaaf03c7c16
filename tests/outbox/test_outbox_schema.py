"""Migration 0006 rebuilds the outbox with cheaper CHECKs: rows survive, the rules still hold."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from farmer_mailbox.store import SqliteStore
from farmer_mailbox.store.sqlite import migration_files

COLUMNS = ("idem_key, purpose, priority, urgent, address, template_key, params, status, attempts, due_at, "
           "expires_at, created_at, gateway, external_id, sent_at")
ROWS = [
    ("a", "reply", 0, 0, "13900000011", "help", "{}", "queued", 0, "2026-06-01T04:00:00.000000Z",
     "2026-06-02T04:00:00.000000Z", "2026-06-01T04:00:00.000000Z", None, None, None),
    ("b", "alert", 2, 1, "13900000012", "pest_alert", '{"crop":"水稻"}', "sent", 1, "2026-06-01T04:00:00.000000Z",
     "2026-06-02T04:00:00.000000Z", "2026-06-01T04:00:00.000000Z", "kannel", "2", "2026-06-01T04:00:01.000000Z"),
]


def database_before_0006(path: Path) -> None:
    """A database as a release with migrations up to 0005 left it, with outbox rows in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for number, name, sql in migration_files():
        if number < 6:
            conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ({number}, '{name}', 'then');"
                               "\nCOMMIT;")
    conn.executemany(f"INSERT INTO outbox ({COLUMNS}) VALUES ({', '.join('?' * 15)})", ROWS)
    conn.close()


async def test_rows_survive_and_the_rules_still_hold(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    database_before_0006(path)
    store = await SqliteStore.open(path)
    try:
        assert 6 in await store.migrate()
        assert await store.outbox_status_counts() == {"queued": 1, "sent": 1}
        sent = await store.outbox_by_key("b")
        assert sent is not None and (sent.params, sent.gateway, sent.external_id) == ({"crop": "水稻"}, "kannel", "2")
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        assert [tuple(r) for r in conn.execute(f"SELECT {COLUMNS} FROM outbox ORDER BY id")] == ROWS
        for bad in ("status = 'lost'", "purpose = 'spam'"):
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                conn.execute(f"UPDATE outbox SET {bad} WHERE idem_key = 'a'")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(f"INSERT INTO outbox ({COLUMNS}) VALUES ({', '.join('?' * 15)})", ROWS[0])
        plan = " ".join(str(r[3]) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE status IN ('queued', 'errored') AND due_at <= ? "
            "AND priority <= ? ORDER BY priority, due_at, id LIMIT 10", ("2026-06-02", 9)))
        assert "outbox_due" in plan                                   # the dispatcher's claim still uses it
        opcodes = [r[1] for r in conn.execute(
            f"EXPLAIN INSERT INTO outbox ({COLUMNS}) VALUES ({', '.join('?' * 15)})", ROWS[0])]
        assert "OpenEphemeral" not in opcodes                         # no temp b-tree per inserted row
    finally:
        conn.close()
