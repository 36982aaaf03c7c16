"""Storage: the only package that writes SQL. Domain code uses the protocols in `interface`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from farmer_mailbox.config_values import ConfigError
from farmer_mailbox.store.interface import Reads, Store, Tx
from farmer_mailbox.store.sql_record import NewRecord, Received
from farmer_mailbox.store.sql_users import NewUser
from farmer_mailbox.store.sqlite import SqliteStore


async def open_store(database: str, *, must_exist: bool = False) -> Store:
    """Open the configured database (SQLite file path today), creating it unless `must_exist`.

    A path that cannot be a database (a directory that cannot be made, no permission, a file that
    is something else) is a ConfigError naming `service.database`, not a traceback.
    """
    if must_exist and not Path(database).exists():
        raise ConfigError(f"service.database: {database} does not exist (a mistyped path? "
                          "`farmer-mailbox migrate` creates it)")
    try:
        return await SqliteStore.open(database)
    except OSError as exc:   # its directory cannot be created (a file is in the way, no permission)
        raise ConfigError(f"service.database: cannot create {database} ({exc.strerror or exc})") from None
    except sqlite3.DatabaseError as exc:   # "unable to open database file", "file is not a database"
        raise ConfigError(f"service.database: cannot open {database} as an SQLite database ({exc})") from None


__all__ = ["NewRecord", "NewUser", "Reads", "Received", "SqliteStore", "Store", "Tx", "open_store"]
