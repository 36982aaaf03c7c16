"""Bad operator input on the command line: one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox import cli_args
from farmer_mailbox.cli import main

BIG = str(2**63)   # one more than SQLite stores




def one_line(err: str) -> str:
    """The only line of stderr (progress bars aside)."""
    lines = [line for line in err.strip().splitlines() if "rows/s" not in line]
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    return lines[0]


# --- the database path ----------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["migrate"], ["demo"], ["users", "show", "13900000001"], ["audit", "verify"],
                                     ["outbox", "totals"]])
@pytest.mark.parametrize("kind", ["under-a-file", "not-a-database"])
def test_a_database_path_that_cannot_be_a_database_is_a_configuration_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str], kind: str) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    database = junk / "x.db" if kind == "under-a-file" else junk
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(database))
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DEMO", "true")
    assert main(command) == 2
    line = one_line(capsys.readouterr().err)
    if kind == "not-a-database":
        assert line.startswith(f"configuration error: service.database: cannot open {database} as an SQLite "
                               "database (file is not a database)"), line
    elif command[0] in ("audit", "outbox"):   # reading commands never create it
        assert line == f"configuration error: service.database: {database} does not exist (a mistyped path? " \
                       "`farmer-mailbox migrate` creates it)"
    else:
        assert line.startswith(f"configuration error: service.database: cannot create {database} ("), line
    assert junk.read_bytes() == bytes(range(256)) * 8


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "tail"], ["outbox", "totals"]])
def test_reading_commands_do_not_create_a_mistyped_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    database = tmp_path / "typo" / "fm.db"
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(database))
    assert main(command) == 2   # not "message record intact: 0 entries verified" on a new empty file
    assert one_line(capsys.readouterr().err).startswith(f"configuration error: service.database: {database} "
                                                        "does not exist")
    assert not database.parent.exists()


# --- numbers in options ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ["alerts", "list", "--limit", "-1"], ["alerts", "list", "--limit", "0"], ["alerts", "list", "--limit", BIG],
    ["alerts", "show", BIG], ["alerts", "show", "-1"], ["alerts", "cancel", BIG], ["alerts", "approve", BIG],
    ["alerts", "show", "1", "--follow", "--interval", "-1"], ["alerts", "show", "1", "--follow", "--interval", "nan"],
    ["alerts", "show", "1", "--follow", "--interval", "inf"],
    ["postings", "list", "--limit", "-5"], ["postings", "list", "--limit", BIG], ["postings", "approve", BIG],
    ["postings", "hide", BIG], ["audit", "tail", "-n", "-1"], ["audit", "tail", "-n", BIG],
    ["audit", "tail", "-n", "9" * 5000], ["serve", "--port", "-1"], ["serve", "--port", "99999"],
    ["serve", "--host", "not a host!"],
], ids=lambda c: " ".join(c)[:60])
def test_a_number_out_of_range_is_a_usage_error_naming_the_option(
        cli_db: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(command)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument " in err and "Traceback" not in err


def test_serve_on_a_port_in_use_is_one_line(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        capsys.readouterr()
        assert main(["serve", "--port", str(port)]) == 2
    line = one_line("\n".join(x for x in capsys.readouterr().err.splitlines() if " WARNING " not in x))
    assert line.startswith(f"configuration error: service.host/port: cannot listen on 127.0.0.1:{port} (")


def test_serve_with_the_lock_file_blocked_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(blocker / "fm.db"))
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DEMO", "true")
    assert main(["serve"]) == 2
    assert one_line(capsys.readouterr().err).startswith("configuration error: service.database: cannot create the "
                                                        "serve lock")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.integers(min_value=-(2**70), max_value=2**70).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(str)))
def test_option_numbers_either_parse_within_range_or_are_refused(text: str) -> None:
    for parse, low, high in ((cli_args.record_id, 1, 2**63 - 1), (cli_args.count, 1, 2**63 - 1),
                             (cli_args.port, 1, 65535), (cli_args.interval, 5e-324, 3600)):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError as exc:
            assert repr(text) in str(exc)
        else:
            assert low <= value <= high, (parse, value)
