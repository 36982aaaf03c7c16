"""One serving process per database: an exclusive lock on a file beside it, held while serving.

Two `serve` processes on one SQLite file would each keep their own match index and run their own
dispatchers and schedulers; the second one is refused at start, naming the first one's pid. The
lock is an advisory `flock`, so the kernel drops it when the holder dies (even by SIGKILL): a crash
never leaves a stale lock behind for the operator to clear.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from farmer_mailbox.config_values import ConfigError


class AlreadyServing(RuntimeError):
    """Another process is serving this database."""


def lock_path(database: str | Path) -> Path:
    """The lock file that belongs to a database file."""
    return Path(f"{database}.serve-lock")


@contextlib.contextmanager
def serving(database: str | Path) -> Iterator[None]:
    """Hold the database's serve lock for the block; raise AlreadyServing if someone else holds it."""
    path = lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:   # a file where the directory should be, no permission
        raise ConfigError(f"service.database: cannot create the serve lock {path} ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise AlreadyServing(f"another farmer-mailbox (pid {holder}) is already serving {database}; "
                                 "stop it first, or give this one its own database") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)   # closing drops the lock
