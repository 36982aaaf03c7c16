"""SQL for the message record (hash-chained, append-only) and received inbound messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import NamedTuple

import aiosqlite

from farmer_mailbox.audit import GENESIS, values_hash
from farmer_mailbox.clock import from_db, to_db
from farmer_mailbox.models import RecordEntry
from farmer_mailbox.store.base import SqlBase

_LOG_COLUMNS = "id, at, kind, channel, user_id, address, text, gateway, external_id, detail, prev_hash, hash"


class NewRecord(NamedTuple):
    """An entry for the message record: a message in or out, or an event such as a registration.

    NamedTuples (this, Received): as immutable as a frozen dataclass and several times cheaper to
    build; every inbound message makes about a dozen.
    """

    kind: str
    channel: str
    at: datetime
    user_id: int | None = None
    address: str = ""
    text: str = ""
    gateway: str = ""
    external_id: str = ""
    detail: str = ""


class Received(NamedTuple):
    """An inbound message as stored, waiting to be processed."""

    id: int
    gateway: str
    external_id: str
    channel: str
    sender: str
    recipient: str
    text: str
    event: str
    received_at: datetime
    log_id: int
    ids_sealed: bytes | None = None   # the ID numbers the text carried, sealed (the text has them masked)


def _entry(row: aiosqlite.Row) -> RecordEntry:
    return RecordEntry(
        id=row["id"], at=from_db(row["at"]), kind=row["kind"], channel=row["channel"],
        user_id=row["user_id"], address=row["address"], text=row["text"], gateway=row["gateway"],
        external_id=row["external_id"], detail=row["detail"], prev_hash=row["prev_hash"], hash=row["hash"],
    )


def _received(row: aiosqlite.Row) -> Received:
    return Received(
        id=row["id"], gateway=row["gateway"], external_id=row["external_id"], channel=row["channel"],
        sender=row["sender"], recipient=row["recipient"], text=row["text"], event=row["event"],
        received_at=from_db(row["received_at"]), log_id=row["log_id"], ids_sealed=row["ids_sealed"],
    )


class RecordReads(SqlBase):
    """Message record and inbound queries."""

    async def iter_record_rows(self, batch: int = 5000) -> AsyncIterator[dict[str, object]]:
        """Every record entry as a plain dict, in id order (for verification)."""
        last = 0
        while True:
            rows = await self._all(
                f"SELECT {_LOG_COLUMNS} FROM message_log WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            )
            if not rows:
                return
            for row in rows:
                yield dict(row)
            last = rows[-1]["id"]

    async def record_for_user(self, user_id: int, limit: int = 50) -> list[RecordEntry]:
        """The latest record entries about one user, newest first."""
        rows = await self._all(
            f"SELECT {_LOG_COLUMNS} FROM message_log WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [_entry(r) for r in rows]

    async def record_tail(self, limit: int = 20) -> list[RecordEntry]:
        """The latest record entries, newest first."""
        rows = await self._all(f"SELECT {_LOG_COLUMNS} FROM message_log ORDER BY id DESC LIMIT ?", (limit,))
        return [_entry(r) for r in rows]

    async def record_referenced_max(self) -> int:
        """The highest record id other tables point at (a deleted tail entry shows up here)."""
        return int(await self._value("SELECT COALESCE(MAX(log_id), 0) FROM inbound"))

    async def record_head(self) -> tuple[int, str] | None:
        """The anchored last entry of the record (id, hash), moved on by every append; None if gone."""
        row = await self._one("SELECT id, hash FROM record_head WHERE one = 1")
        return (int(row["id"]), str(row["hash"])) if row else None

    async def pending_inbound(self, limit: int = 100) -> list[Received]:
        """Inbound messages received but not yet processed, oldest first."""
        rows = await self._all(
            "SELECT * FROM inbound WHERE status = 'received' ORDER BY id LIMIT ?", (limit,)
        )
        return [_received(r) for r in rows]

    async def pending_inbound_among(self, ids: Sequence[int]) -> list[Received]:
        """Those of the given inbound messages still waiting for processing, oldest first."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self._all(
            f"SELECT * FROM inbound WHERE id IN ({marks}) AND status = 'received' ORDER BY id", list(ids))
        return [_received(r) for r in rows]

    async def pending_inbound_ids(self, ids: Sequence[int]) -> set[int]:
        """Which of the given inbound messages still wait for processing (their ids only)."""
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {r[0] for r in await self._all(
            f"SELECT id FROM inbound WHERE id IN ({marks}) AND status = 'received'", list(ids))}

    async def count_pending_inbound(self) -> int:
        """How many inbound messages wait for processing."""
        return int(await self._value("SELECT COUNT(*) FROM inbound WHERE status = 'received'"))


class RecordWrites(SqlBase):
    """Appends to the message record and inbound bookkeeping."""

    _head: tuple[int, str] | None

    async def _chain_head(self) -> tuple[int, str]:
        if self._head is None:
            # the anchor, not the last row: after a deleted tail entry the gap stays visible
            row = await self._one("SELECT id, hash FROM record_head WHERE one = 1")
            if row is None:   # the anchor row was removed by hand: chain on from the last entry
                row = await self._one("SELECT id, hash FROM message_log ORDER BY id DESC LIMIT 1")
            self._head = (int(row["id"]), str(row["hash"])) if row else (0, GENESIS)
        return self._head

    async def append_record(self, new: NewRecord) -> RecordEntry:
        """Append one entry to the record, chained to the current head."""
        return (await self.append_records([new]))[0]

    async def append_records(self, news: Sequence[NewRecord]) -> list[RecordEntry]:
        """Append entries in order, each chained to the one before, in one statement."""
        if not news:
            return []
        head_id, head_hash = await self._chain_head()
        entries: list[RecordEntry] = []
        rows: list[tuple[object, ...]] = []
        for new in news:
            head_id += 1
            values = [head_id, to_db(new.at), new.kind, new.channel, new.user_id, new.address, new.text,
                      new.gateway, new.external_id, new.detail]   # HASHED_FIELDS, in order
            digest = values_hash(head_hash, values)
            entries.append(RecordEntry(head_id, new.at, new.kind, new.channel, new.user_id, new.address,
                                       new.text, new.gateway, new.external_id, new.detail, head_hash, digest))
            rows.append((*values, head_hash, digest))
            head_hash = digest
        await self._many(
            f"INSERT INTO message_log ({_LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        await self._exec("INSERT INTO record_head (one, id, hash) VALUES (1, ?, ?) "
                         "ON CONFLICT (one) DO UPDATE SET id = excluded.id, hash = excluded.hash",
                         (head_id, head_hash))
        self._head = (head_id, head_hash)
        return entries

    async def record_inbound(self, new: NewRecord, recipient: str = "", event: str = "",
                             ids_sealed: bytes | None = None) -> int | None:
        """Store an inbound message and its record entry; None when this provider id was seen.

        `new.text` is stored as given (the inbox masks ID numbers first); `ids_sealed` keeps the
        numbers, encrypted, until the message is processed."""
        seen = await self._value(
            "SELECT id FROM inbound WHERE gateway = ? AND external_id = ?", (new.gateway, new.external_id)
        )
        if seen is not None:
            return None
        entry = await self.append_record(new)
        return await self._insert(
            "INSERT INTO inbound (gateway, external_id, channel, sender, recipient, text, event, "
            "received_at, user_id, log_id, ids_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new.gateway, new.external_id, new.channel, new.address, recipient, new.text, event,
             to_db(new.at), new.user_id, entry.id, ids_sealed),
        )

    async def finish_inbound(self, inbound_id: int, ok: bool, error: str = "") -> None:
        """Mark an inbound message processed (done: its sealed ID numbers are dropped) or failed."""
        if ok:
            await self._exec("UPDATE inbound SET status = 'done', error = ?, ids_sealed = NULL WHERE id = ?",
                             (error, inbound_id))
        else:
            await self._exec("UPDATE inbound SET status = 'failed', error = ? WHERE id = ?", (error, inbound_id))
