"""Bad operator input on the command line: one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox import cli_args
from farmer_mailbox.cli import main
from tests.helpers import valid_id

BIG = str(2**63)   # one more than SQLite stores
ROOT = Path(__file__).parents[2]




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


# --- text the terminal could not decode ----------------------------------------------------------

GBK_REASON = "核查".encode("gbk").decode("utf-8", "surrogateescape")   # typed in a GBK terminal


@pytest.mark.parametrize("command", [
    ["users", "export", "--reason", GBK_REASON, "--by", "13900000001"],
    ["users", "token", "13900000001", "--label", "\ud83d"],
    ["users", "set", "13900000011", "--interests", GBK_REASON],
    ["points", "add", GBK_REASON, "--villages", "杨高村"],
    ["alerts", "create", "--kind", "notice", "--regions", "慈溪市龙山镇", "--param", f"content={GBK_REASON}"],
    ["alerts", "create", "--kind", "notice", "--regions", "慈溪市龙山镇", "--param", "content=通知",
     "--note", "\udcff"],
    ["postings", "hide", "1", "--reason", GBK_REASON],
    ["parse", "--text", GBK_REASON],
], ids=lambda c: " ".join(c[:2]))
def test_text_the_terminal_could_not_decode_is_refused_before_anything_is_written(
        cli_db: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    assert main(["audit", "tail", "-n", "1"]) == 0
    before = capsys.readouterr().out
    assert main(command) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("farmer-mailbox: error: argument ") and "not UTF-8 text" in line, line
    assert main(["audit", "tail", "-n", "1"]) == 0
    assert capsys.readouterr().out == before


def test_a_file_name_in_another_encoding_is_still_opened(cli_db: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    name = os.fsdecode("名单.csv".encode("gbk"))   # a file unpacked from a Windows zip
    (tmp_path / name).write_text(f"name,id_number,phone,village\n张三丰,{valid_id(serial=84)},13700000084,杨高村\n",
                                 encoding="utf-8")
    assert main(["users", "import", str(tmp_path / name)]) == 0
    assert "imported 1 of 1 rows" in capsys.readouterr().out


def test_parse_reads_bytes_that_are_no_utf8_as_replacement_characters(cli_db: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}   # strict, as in any UTF-8 locale but C.UTF-8
    out = subprocess.run([sys.executable, "-m", "farmer_mailbox", "parse"], input=b"\xff\xfe\xb2\xe2\n\xe5\x8d\x96\n",
                         capture_output=True, env=env, cwd=ROOT, check=False, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    lines = [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]
    assert lines[0]["text"].startswith("\ufffd") and lines[1]["text"] == "卖"


# --- users import ----------------------------------------------------------------------------------

def test_columns_the_import_does_not_read_are_named(cli_db: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo.csv"
    path.write_text(f"name,id_number,phone,village,interest\n张三丰,{valid_id(serial=85)},13700000085,杨高村,葡萄\n",
                    encoding="utf-8")
    capsys.readouterr()
    assert main(["users", "import", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "imported 1 of 1 rows" in out
    assert one_line(err) == (f"{path}: ignored column(s) interest; the columns read are name, id_number, phone, "
                             "village, role, interests, liaison_point, county")


def test_a_bad_header_is_a_line_of_its_own_not_glued_to_the_progress_bar(cli_db: Path, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,phone\n张三,13700000086\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["users", "import", str(path)]) == 2
    assert one_line(capsys.readouterr().err) == (f"{path}: missing column(s): id_number, village "
                                                 "(header: name,phone)")
