"""The farmer-mailbox command: every subcommand has --help; CLI registration is scoped."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from farmer_mailbox.cli import build_parser, main
from tests.helpers import TEST_ENV, valid_id


def all_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += all_commands(sub, (*prefix, name))
    return found


@pytest.mark.parametrize("command", all_commands(build_parser()), ids=lambda c: " ".join(c) or "top")
def test_every_subcommand_has_help(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: farmer-mailbox" in capsys.readouterr().out


def test_python_dash_m_runs_the_same_command() -> None:
    out = subprocess.run([sys.executable, "-m", "farmer_mailbox", "--version"], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.startswith("farmer-mailbox ")


@pytest.fixture
def cli_env(tmp_path: Path, region_db_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.db"
    shutil.copy(region_db_template, db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(db))
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    assert main(["demo"]) == 0
    return db


def test_cli_registration_follows_the_liaisons_scope(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = ["users", "add", "--name", "张三", "--id-number", valid_id(serial=61), "--phone", "13700000061"]
    assert main([*args, "--village", "杨高村", "--by", "13900000003"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["registered_by"] == 3 and shown["id_number"].startswith("330282********")
    args[args.index("--id-number") + 1] = valid_id(serial=62)
    args[args.index("--phone") + 1] = "13700000062"
    assert main([*args, "--village", "子陵村", "--by", "13900000003"]) == 1
    assert "该村不在您的联络点范围内 (scope.village)" in capsys.readouterr().err


def test_cli_csv_import_reports_lines_and_summary(cli_env: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("name,id_number,phone,village\n"
                   f"张三,{valid_id(serial=71)},13700000071,杨高村\n"
                   f"李四,{valid_id(serial=72)},12345,杨高村\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["users", "import", str(csv), "--by", "13900000003"]) == 1
    out = capsys.readouterr().out
    assert "line 3: 请填写11位手机号 (phone.not_mobile)" in out
    assert "imported 1 of 2 rows, 1 refused" in out


def test_users_show_masks_phones_for_farmers(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["users", "show", "13900000012", "--by", "13900000011"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["phone"] == "139****0012" and shown["record"][0]["text"] == "register"


def test_bad_config_stops_with_the_key_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[outbox]\nquiet_start = "9pm"\n', encoding="utf-8")
    assert main(["--config", str(bad), "check-config"]) == 2
    assert "outbox.quiet_start: expected a time of day as HH:MM, got '9pm'" in capsys.readouterr().err


def test_missing_id_key_outside_demo_mode_stops_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FARMER_MAILBOX_ID_KEY", raising=False)
    assert main(["demo"]) == 2
    assert "FARMER_MAILBOX_ID_KEY is not set" in capsys.readouterr().err


def test_audited_export_prints_clear_ids_for_admins_only(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["users", "export", "--reason", "核查", "--by", "13900000002"]) == 1
    assert main(["users", "export", "--reason", "核查", "--by", "13900000001"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("id,name,phone,id_number") and len(out) == 11
    assert len(out[1].split(",")[3]) == 18
