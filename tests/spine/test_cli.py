"""The farmer-mailbox command: every subcommand has --help; CLI registration is scoped."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from farmer_mailbox.cli import build_parser, main
from tests.helpers import valid_id


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




def test_cli_registration_follows_the_liaisons_scope(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = ["users", "add", "--name", "张三", "--id-number", valid_id(serial=61), "--phone", "13700000061"]
    assert main([*args, "--village", "杨高村", "--by", "13900000003"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["registered_by"] == 3 and shown["id_number"].startswith("330282********")
    args[args.index("--id-number") + 1] = valid_id(serial=62)
    args[args.index("--phone") + 1] = "13700000062"
    assert main([*args, "--village", "子陵村", "--by", "13900000003"]) == 1
    assert "该村不在您的联络点范围内 (scope.village)" in capsys.readouterr().err


def test_cli_csv_import_reports_lines_and_summary(cli_db: Path, tmp_path: Path,
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


def test_users_show_masks_phones_for_farmers(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["users", "show", "13900000012", "--by", "13900000011"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["phone"] == "139****0012" and "record" not in shown   # nobody else's messages


async def _record_messages(db: Path) -> None:
    """杨德福 (13900000011) asked a question naming a phone; 杨丽 (liaison) wrote with an ID number
    (as stored before migration 0007 masked them)."""
    from farmer_mailbox.clock import SystemClock
    from farmer_mailbox.store import NewRecord, SqliteStore

    store = await SqliteStore.open(db)
    try:
        async with store.transaction() as tx:
            now = SystemClock().now()
            await tx.append_record(NewRecord(kind="inbound", channel="sms", at=now, user_id=5,
                                             address="13900000011", text="W 老陈13912345678说苗不行"))
            await tx.append_record(NewRecord(kind="inbound", channel="sms", at=now, user_id=3,
                                             address="13900000003", text=f"注册 张三 {valid_id(serial=91)} "
                                                                          "13911112222 杨高村"))
    finally:
        await store.close()


def test_the_message_record_is_shown_to_staff_in_scope_and_to_the_user(cli_db: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    asyncio.run(_record_messages(cli_db))
    capsys.readouterr()
    for viewer in ("13900000011", "13900000012", "13900000004"):   # himself, another farmer, another point's liaison
        assert main(["users", "show", "13900000011", "--by", viewer]) == 0
        shown = json.loads(capsys.readouterr().out)
        if viewer == "13900000011":
            assert shown["record"][0]["text"] == "W 老陈139****5678说苗不行"   # others' phones masked
        else:
            assert "record" not in shown, viewer
    for viewer in ("13900000003", "13900000002", "13900000001"):   # his liaison, the county officer, an admin
        assert main(["users", "show", "13900000011", "--by", viewer]) == 0
        assert json.loads(capsys.readouterr().out)["record"][0]["text"] == "W 老陈13912345678说苗不行"
    assert main(["users", "show", "13900000003"]) == 0                 # the operator; an entry from before 0007
    texts = [e["text"] for e in json.loads(capsys.readouterr().out)["record"]]
    assert f"注册 张三 330282********{valid_id(serial=91)[-4:]} 13911112222 杨高村" in texts
    assert main(["audit", "tail", "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert valid_id(serial=91) not in out and "330282********" in out


def test_a_gbk_csv_from_excel_is_imported(cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(("姓名,身份证号,手机号,村名,关注\n"
                     f"张三丰,{valid_id(serial=81)},13700000081,杨高村,葡萄\n"
                     f"欧阳娜仁托娅,{valid_id(serial=82)},13700000082,山下村,水稻\n").encode("gbk"))
    capsys.readouterr()
    assert main(["users", "import", str(gbk), "--by", "13900000003"]) == 0
    assert "imported 2 of 2 rows, 0 refused" in capsys.readouterr().out
    assert main(["users", "show", "13700000082"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "欧阳娜仁托娅"


HEADER = "姓名,身份证号,手机号,村名\n".encode()


@pytest.mark.parametrize("data", [b"\xef\xbb\xbf" + HEADER, HEADER], ids=["utf-8-bom", "utf-8"])
def test_utf8_csv_with_or_without_bom_is_read(cli_db: Path, tmp_path: Path, data: bytes,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes(data + f"张三丰,{valid_id(serial=83)},13700000083,杨高村\n".encode())
    capsys.readouterr()
    assert main(["users", "import", str(path), "--by", "13900000003"]) == 0
    assert "imported 1 of 1 rows" in capsys.readouterr().out


@pytest.mark.parametrize("data", [b"\xff\xfe\x00bad", b"name,id_number,phone,village\n\x80\xff,1,2,3\n"],
                         ids=["utf-16-ish", "broken-bytes"])
def test_a_file_in_no_known_encoding_is_one_clear_line_and_exit_2(cli_db: Path, tmp_path: Path, data: bytes,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(data)
    capsys.readouterr()
    assert main(["users", "import", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}: not UTF-8 or GBK/GB18030 text") and "\n" not in err


def test_a_csv_with_a_nul_byte_is_reported_as_a_bad_row(cli_db: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"name,id_number,phone,village\n\x00a,b,c,d\n")
    capsys.readouterr()
    assert main(["users", "import", str(path)]) == 1                  # the row is refused, the rest goes on
    assert "line 2: 姓名应为" in capsys.readouterr().out


def test_a_csv_field_beyond_the_csv_limit_is_refused_without_a_traceback(cli_db: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("name,id_number,phone,village\n\"" + "张" * 200_000 + "\",1,2,3\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["users", "import", str(path)]) == 2
    assert "line 2: not readable as CSV (field larger than field limit" in capsys.readouterr().err


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


def test_audited_export_prints_clear_ids_for_admins_only(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["users", "export", "--reason", "核查", "--by", "13900000002"]) == 1
    assert main(["users", "export", "--reason", "核查", "--by", "13900000001"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("id,name,phone,id_number") and len(out) == 11
    assert len(out[1].split(",")[3]) == 18


@pytest.mark.parametrize(("level", "scheduler_level"), [("INFO", "WARNING"), ("DEBUG", "NOTSET")])
def test_scheduler_job_lines_stay_out_of_the_serve_terminal_unless_debugging(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: str, scheduler_level: str) -> None:
    import logging
    monkeypatch.setattr(logging.getLogger("apscheduler"), "level", logging.NOTSET)
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nlog_level = "{level}"\ndemo = true\n', encoding="utf-8")
    main(["--config", str(config), "check-config"])
    assert logging.getLevelName(logging.getLogger("apscheduler").level) == scheduler_level
