"""Migration 0010: alerts written before it keep counting for their bureau; the new queries use indexes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from farmer_mailbox.alerts.model import Target
from farmer_mailbox.store import SqliteStore
from farmer_mailbox.store.sql_alerts import audience_where
from farmer_mailbox.store.sqlite import migration_files

COLUMNS = ("kind, severity, urgent, template_key, params, regions, roles, county_code, status, send_at, expires_at, "
           "segments, price, recipients, cost_yuan, created_at, updated_at")
T = "2026-06-10T00:00:00.000000Z"
ALERTS = [   # one county's sent alert, and a province-wide one that was charged to nobody
    ("pest", "", 0, "pest_alert", "{}", '["330282123000"]', '["farmer"]', "330282000000", "sent", T, T, 2, 0.05,
     125, 12.5, T, T),
    ("notice", "", 0, "bureau_notice", "{}", '["330000000000"]', '["farmer"]', None, "sent", T, T, 1, 0.05,
     1000, 50.0, T, T),
]


def database_before_0010(path: Path) -> None:
    """A database as a release before 0010 left it, with two sent alerts in June 2026."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for number, name, sql in migration_files():
        if number < 10:
            conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ({number}, '{name}', 'then');"
                               "\nCOMMIT;")
    conn.executemany(f"INSERT INTO alerts ({COLUMNS}) VALUES ({', '.join('?' * 17)})", ALERTS)
    conn.close()


async def test_earlier_alerts_keep_counting_for_their_county(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    database_before_0010(path)
    store = await SqliteStore.open(path)
    try:
        assert 10 in await store.migrate()
        june, july = datetime(2026, 5, 31, 16, tzinfo=UTC), datetime(2026, 6, 30, 16, tzinfo=UTC)
        assert await store.county_spent("330282000000", june, july) == 12.5
        assert await store.alert_charges(1) == {"330282000000": 125} and await store.alert_charges(2) == {}
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        plan = " ".join(str(r[3]) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT SUM(a.cost_yuan * c.share) FROM alert_charges c JOIN alerts a ON "
            "a.id = c.alert_id WHERE c.county_code = ?", ("330282000000",)))
        assert "alert_charges_county" in plan               # a county's month reads its own charges only
        admins = " ".join(str(r[3]) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM users u WHERE u.role = 'admin' AND u.status = 'active'"))
        assert "users_admins" in admins                    # telling admins of a hold reads no other user
    finally:
        conn.close()


async def test_a_lift_notice_finds_who_got_the_warning_by_unique_key(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "new.db")
    await store.migrate()
    await store.close()
    conn = sqlite3.connect(tmp_path / "new.db")
    try:
        target = Target(("330282000000",), recipients_of=(5, 7))
        for chunked in (False, True):
            where, params = audience_where(target, "330282000000", by_rowid=chunked, ids=(0, 50) if chunked else None)
            plan = [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT u.id FROM users u WHERE {where}",
                                                    params)]
            assert any("sqlite_autoindex_outbox_1 (idem_key=?)" in step for step in plan), plan
            assert not any(step.startswith("SCAN o") for step in plan), plan
    finally:
        conn.close()
