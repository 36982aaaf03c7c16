"""One serving process per database: a second `serve` is refused, a killed one leaves no lock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from farmer_mailbox.cli import main
from farmer_mailbox.serve_lock import AlreadyServing, serving
from tests.helpers import TEST_ENV

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_lock_is_held_for_the_block_and_names_its_holder(tmp_path: Path) -> None:
    database = tmp_path / "var" / "fm.db"
    with serving(database):
        with pytest.raises(AlreadyServing, match=rf"pid {os.getpid()}\) is already serving .*fm.db"), \
                serving(database):
            pass
        with serving(tmp_path / "other.db"):   # another database is another lock
            pass
    with serving(database):   # released when the block ends
        pass


def test_a_second_serve_on_the_same_database_is_refused_and_a_killed_one_leaves_no_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\ndatabase = "{tmp_path / "fm.db"}"\nport = {free_port()}\n'
                      'log_level = "WARNING"\n', encoding="utf-8")
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "farmer_mailbox", "--config", str(config), "serve"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert first.stdout is not None
        deadline = time.monotonic() + 60
        while b"serving on" not in first.stdout.readline():
            assert first.poll() is None and time.monotonic() < deadline, "the first serve did not start"
        capsys.readouterr()
        assert main(["--config", str(config), "serve", "--port", str(free_port())]) == 1
        assert f"refused: another farmer-mailbox (pid {first.pid}) is already serving" in capsys.readouterr().err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(15)
        if first.stdout is not None:
            first.stdout.close()
    with serving(tmp_path / "fm.db"):   # the kernel dropped the dead process's lock
        pass
