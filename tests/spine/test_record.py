"""The message record: hash-chained, append-only, and `audit verify` names the first broken entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from farmer_mailbox.audit import GENESIS, entry_hash, verify_chain, verify_rows
from farmer_mailbox.cli import main
from farmer_mailbox.demo import load_demo
from farmer_mailbox.services import Services
from farmer_mailbox.store import NewRecord
from tests.helpers import TEST_ENV


async def fill(services: Services, n: int = 5) -> None:
    async with services.store.transaction() as tx:
        for i in range(n):
            await tx.append_record(NewRecord(kind="inbound", channel="sms", at=services.clock.now(),
                                             address="13900000011", text=f"卖葡萄苗{i}00株"))


async def report(services: Services):  # type: ignore[no-untyped-def]
    store = services.store
    return await verify_rows(store.iter_record_rows(), await store.record_referenced_max(),
                             await store.record_head())


def tamper(db: Path, *statements: str) -> None:
    """What an attacker with the file would do: drop the guard triggers, then edit."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER message_log_no_update")
    conn.execute("DROP TRIGGER message_log_no_delete")
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


async def test_an_untouched_record_verifies(services: Services) -> None:
    await fill(services)
    result = await report(services)
    assert result.ok and result.entries == 5


async def test_updates_and_deletes_are_refused_by_the_database(services: Services, db_path: Path) -> None:
    await fill(services)
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE message_log SET text = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM message_log WHERE id = 1")
    conn.close()


async def test_an_edited_entry_is_named(services: Services, db_path: Path) -> None:
    await fill(services)
    tamper(db_path, "UPDATE message_log SET text = '卖葡萄苗9000株' WHERE id = 3")
    result = await report(services)
    assert not result.ok and result.first_broken == 3 and "edited" in result.reason


async def test_a_deleted_entry_is_named(services: Services, db_path: Path) -> None:
    await fill(services)
    tamper(db_path, "DELETE FROM message_log WHERE id = 2")
    result = await report(services)
    assert not result.ok and result.first_broken == 3 and "entry 2 is missing" in result.reason


async def test_an_edit_that_rehashes_its_own_entry_still_breaks_the_next_link(services: Services,
                                                                               db_path: Path) -> None:
    await fill(services)
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM message_log WHERE id = 2").fetchone())
    conn.close()
    row["text"] = "卖葡萄苗1株"
    new_hash = entry_hash(str(row["prev_hash"]), row)
    tamper(db_path, f"UPDATE message_log SET text = '卖葡萄苗1株', hash = '{new_hash}' WHERE id = 2")
    result = await report(services)
    assert result.first_broken == 3 and "link" in result.reason


async def test_a_deleted_last_entry_is_caught_by_what_points_at_it(services: Services, db_path: Path) -> None:
    from gateways import InboundSms

    async with services.store.transaction() as tx:
        await tx.record_inbound(NewRecord(kind="inbound", channel="sms", at=services.clock.now(),
                                          address="13900000011", text="求购仔猪20头", gateway="mem",
                                          external_id="m1"))
    assert InboundSms  # the inbound table references its record entry
    tamper(db_path, "DELETE FROM message_log WHERE id = (SELECT MAX(id) FROM message_log)")
    result = await report(services)
    assert not result.ok and "deleted at the end" in result.reason


def test_verify_chain_on_plain_rows() -> None:
    rows = []
    prev = GENESIS
    for i in range(1, 4):
        row: dict[str, object] = {"id": i, "at": "t", "kind": "event", "channel": "cli", "user_id": None,
                                  "address": "", "text": str(i), "gateway": "", "external_id": "", "detail": ""}
        row["prev_hash"], row["hash"] = prev, entry_hash(prev, row)
        prev = str(row["hash"])
        rows.append(row)
    assert verify_chain(rows).ok
    rows[1]["text"] = "x"
    assert verify_chain(rows).first_broken == 2


async def test_audit_verify_command_exit_codes(services: Services, db_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    await load_demo(services.accounts)
    await services.close()
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(db_path))
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    assert await _main(["audit", "verify"]) == 0
    assert "intact: 12 entries" in capsys.readouterr().out
    tamper(db_path, "UPDATE message_log SET detail = '{}' WHERE id = 7")
    assert await _main(["audit", "verify"]) == 1
    assert "BROKEN at entry 7" in capsys.readouterr().out


async def test_deleting_the_last_entry_is_caught_by_the_head_anchor(services: Services, db_path: Path) -> None:
    await fill(services)                      # events only: nothing else points at them
    tamper(db_path, "DELETE FROM message_log WHERE id = 5")
    result = await report(services)
    assert not result.ok and result.first_broken == 5 and result.reason.startswith("entry 5 missing")
    assert "deleted at the end" in result.reason


async def test_deleting_several_last_entries_names_them(services: Services, db_path: Path) -> None:
    await fill(services)
    tamper(db_path, "DELETE FROM message_log WHERE id >= 3")
    result = await report(services)
    assert not result.ok and result.first_broken == 3 and "entries 3-5 missing" in result.reason


async def test_the_head_anchor_cannot_move_back_or_go_away(services: Services, db_path: Path) -> None:
    await fill(services)
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="only moves forward"):
        conn.execute("UPDATE record_head SET id = 4")
    with pytest.raises(sqlite3.IntegrityError, match="kept"):
        conn.execute("DELETE FROM record_head")
    conn.close()
    tamper(db_path, "DROP TRIGGER record_head_no_delete", "DELETE FROM record_head")
    result = await report(services)
    assert not result.ok and "head anchor is missing" in result.reason


async def test_a_replaced_last_entry_is_caught(services: Services, db_path: Path) -> None:
    await fill(services)
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM message_log WHERE id = 5").fetchone())
    conn.close()
    row["text"] = "卖葡萄苗1株"
    forged = entry_hash(str(row["prev_hash"]), row)     # a consistent chain, but not the one anchored
    tamper(db_path, f"UPDATE message_log SET text = '卖葡萄苗1株', hash = '{forged}' WHERE id = 5")
    result = await report(services)
    assert not result.ok and result.first_broken == 5 and "replaced" in result.reason


async def test_after_a_deleted_tail_new_entries_keep_the_gap_visible(services: Services, db_path: Path) -> None:
    await fill(services)
    tamper(db_path, "DELETE FROM message_log WHERE id = 5")
    await services.close()
    from farmer_mailbox.services import open_services
    from tests.helpers import make_config

    reopened = await open_services(make_config(db_path), services.clock, TEST_ENV, tree=services.tree)
    try:
        await fill(reopened, 1)                # the service goes on from the anchor: entry 6
        result = await report(reopened)
    finally:
        await reopened.close()
    assert not result.ok and result.first_broken == 6 and "entry 5 is missing" in result.reason


async def test_audit_verify_names_a_deleted_last_entry(services: Services, db_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    await load_demo(services.accounts)
    await services.close()
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(db_path))
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    tamper(db_path, "DELETE FROM message_log WHERE id = (SELECT MAX(id) FROM message_log)")
    assert await _main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at entry 12: entry 12 missing: the record ended at entry 12 (deleted at the end)" in out


async def _main(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(main, argv)
