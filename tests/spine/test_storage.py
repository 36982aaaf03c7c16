"""Storage: migrations from an empty file, WAL and foreign keys, encryption at rest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.models import Channel
from farmer_mailbox.services import Services
from farmer_mailbox.store import SqliteStore
from farmer_mailbox.store.sqlite import migration_files
from tests.helpers import valid_id


async def test_every_migration_applies_to_an_empty_database(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "sub" / "empty.db")
    applied = await store.migrate()
    assert applied == [n for n, _, _ in migration_files()] and applied[0] == 1
    assert await store.migrate() == []
    assert await store.schema_version() == applied[-1]
    await store.close()
    conn = sqlite3.connect(tmp_path / "sub" / "empty.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_foreign_keys_are_enforced(services: Services) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with services.store.transaction() as tx:
            await tx.insert_liaison_point("不存在的村", ["999999999999"], services.clock.now())


async def test_a_failed_transaction_leaves_nothing(services: Services) -> None:
    before = await services.store.count_users()
    with pytest.raises(RuntimeError):
        async with services.store.transaction() as tx:
            await tx.insert_liaison_point("联络点", [], services.clock.now())
            raise RuntimeError("boom")
    assert await services.store.list_liaison_points() == [] and await services.store.count_users() == before


async def test_the_raw_id_number_never_reaches_the_database_file(services: Services, db_path: Path) -> None:
    operator = await services.accounts.actor_for(None, Channel.CLI)
    raw = valid_id(birth="19660606", serial=42)
    user = await services.accounts.register(operator, RegistrationForm(
        name="赵六", id_number=raw, phone="13700000042", village="杨高村"))
    cipher = await services.store.id_cipher(user.id)
    assert cipher and services.vault.open(cipher) == raw
    await services.close()
    data = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for form in (raw, raw[6:14], raw[:17]):
        assert form.encode() not in data and form.encode("utf-16-le") not in data
    assert b"330282********" in data  # only the masked form is stored in clear


async def test_migration_7_anchors_the_head_of_an_existing_record(tmp_path: Path) -> None:
    from farmer_mailbox.audit import GENESIS, entry_hash, verify_rows

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)                 # a database as release 0006 left it, with a record
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for number, name, sql in migration_files():
        if number < 7:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (number, name))
    prev = GENESIS
    for i in range(1, 4):
        row: dict[str, object] = {"id": i, "at": "2026-05-01T02:00:00.000000Z", "kind": "event", "channel": "cli",
                                  "user_id": None, "address": "", "text": f"e{i}", "gateway": "",
                                  "external_id": "", "detail": ""}
        digest = entry_hash(prev, row)
        conn.execute("INSERT INTO message_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (*row.values(), prev, digest))
        prev = digest
    conn.commit()
    conn.close()
    store = await SqliteStore.open(path)
    try:
        assert await store.migrate() == [n for n, _, _ in migration_files() if n >= 7]
        assert await store.record_head() == (3, prev)
        report = await verify_rows(store.iter_record_rows(), await store.record_referenced_max(),
                                   await store.record_head())
        assert report.ok and report.entries == 3
    finally:
        await store.close()


async def test_the_wal_stays_bounded_under_sustained_writes_and_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader always inside a snapshot keeps PASSIVE checkpoints from ever finishing the log;
    the checkpointer must still start it over, or the -wal file grows with every write."""
    import asyncio
    import os

    from farmer_mailbox.store import sqlite as store_module
    monkeypatch.setattr(store_module, "CHECKPOINT_SECONDS", 0.02)
    monkeypatch.setattr(store_module, "WAL_LIMIT_BYTES", 1 << 20)
    monkeypatch.setattr(store_module, "WAL_RESTART_BYTES", 1 << 20)
    path = tmp_path / "busy.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    store = await SqliteStore.open(path)
    stop = asyncio.Event()

    async def keep_reading() -> None:
        while not stop.is_set():
            assert await store.scalar("SELECT count(*) FROM scratch WHERE id > 0") is not None

    readers = [asyncio.create_task(keep_reading()) for _ in range(2)]
    largest = 0
    for _ in range(300):   # 300 commits of 40 KB: 12 MB through the log, 12 times the limit
        async with store.transaction() as tx:
            tx._sync.executemany("INSERT INTO scratch (body) VALUES (?)", [(os.urandom(4000),)] * 10)
        largest = max(largest, os.path.getsize(f"{path}-wal"))
        await asyncio.sleep(0.001)
    stop.set()
    await asyncio.gather(*readers)
    assert await store.scalar("SELECT count(*) FROM scratch") == 3000
    await store.close()
    assert largest < 8 << 20, f"the WAL reached {largest / 2**20:.1f} MB"
