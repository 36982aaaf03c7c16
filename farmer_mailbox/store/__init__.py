"""Storage: the only package that writes SQL. Domain code uses the protocols in `interface`."""

from __future__ import annotations

from farmer_mailbox.store.interface import Reads, Store, Tx
from farmer_mailbox.store.sql_record import NewRecord, Received
from farmer_mailbox.store.sql_users import NewUser
from farmer_mailbox.store.sqlite import SqliteStore


async def open_store(database: str) -> Store:
    """Open the configured database (SQLite file path today)."""
    return await SqliteStore.open(database)


__all__ = ["NewRecord", "NewUser", "Reads", "Received", "SqliteStore", "Store", "Tx", "open_store"]
