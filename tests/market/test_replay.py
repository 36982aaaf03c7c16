"""`farmer-mailbox replay`: the stable JSONL interface over the whole pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox import replay as replay_module
from farmer_mailbox.cli import main
from farmer_mailbox.config import build_config
from farmer_mailbox.replay import read_lines, replay

LINES = [
    {"id": "s1", "from": "老陈", "text": "卖葡萄苗5000株 每株3元", "village": "子陵村"},
    {"id": "s2", "from": "老徐", "text": "卖葡萄苗1000株", "village": "山下村"},
    {"id": "s3", "from": "老沈", "text": "卖葡萄苗800株", "village": "330282123201"},
    {"id": "b1", "from": "老杨", "text": "求购优质葡萄苗2000株"},
    {"id": "c1", "from": "老杨", "text": "LX1"},
    {"id": "x", "text": "你好"},
]


async def test_replay_reports_every_match_beyond_the_caps(tmp_path: Path) -> None:
    config = build_config({"matching": {"notify_limit": 1, "list_size": 1, "match_sms_per_day": 1}}, env={})
    out = list(await replay(config, [json.dumps(x, ensure_ascii=False) for x in LINES] + ["{broken"]))
    by_id = {o.get("id"): o for o in out if "id" in o}
    assert by_id["b1"]["intent"] == "buy"
    assert by_id["b1"]["postings"][0]["product"] == "葡萄苗"
    assert by_id["b1"]["matched_with"] == ["s2", "s3", "s1"]   # same town (that day: better fit first), county
    assert by_id["b1"]["replies"][0].startswith("求购葡萄苗2000株已登记(编号4)。匹配3条:1.龙山镇山下村")
    assert by_id["c1"]["replies"] == ["已请对方同意,同意后把电话发给您。也可回HF1+内容留言。"]
    assert by_id["x"]["intent"] == "other" and by_id["x"]["matched_with"] == []
    assert by_id["7"]["error"].startswith("not JSON")
    summary = out[-1]["summary"]
    assert summary["messages"] == 6 and summary["errors"] == 1
    assert summary["farmers"] == 5                                  # four named, one anonymous


async def test_a_village_that_is_not_one_is_an_error_not_a_default() -> None:
    lines = [
        {"id": "ghost", "from": "老鬼", "village": "不存在村", "text": "卖葡萄苗800株"},
        {"id": "town", "from": "老镇", "village": "观海卫镇", "text": "卖葡萄苗800株"},
        {"id": "towns", "from": "老横", "village": "横河镇", "text": "卖葡萄苗800株"},   # several towns, no village
        {"id": "villages", "from": "老山", "village": "大山村", "text": "卖葡萄苗800株"},  # several villages
        {"id": "county", "from": "老县", "village": "330282000000", "text": "卖葡萄苗800株"},
        {"id": "ok", "from": "老杨", "text": "买葡萄苗"},
    ]
    out = list(await replay(build_config({}, env={}), [json.dumps(x, ensure_ascii=False) for x in lines]))
    by_id = {o.get("id"): o for o in out if "id" in o}
    assert by_id["ghost"] == {"id": "ghost", "error": "unknown village '不存在村'"}
    assert by_id["town"] == {"id": "town", "error": "'观海卫镇' is not a village (a town or county?): name a village"}
    assert by_id["towns"]["error"] == "'横河镇' is not a village (a town or county?): name a village"
    assert by_id["villages"]["error"] == "'大山村' names several places: add its town or county, or give its code"
    assert by_id["county"]["error"].startswith("'330282000000' is not a village")
    assert by_id["ok"]["matched_with"] == [] and by_id["ok"]["replies"][0].endswith("有匹配时会短信告诉您。")
    summary = out[-1]["summary"]
    assert summary["errors"] == 5 and summary["messages"] == 1 and summary["farmers"] == 1


async def test_a_farmer_keeps_one_village() -> None:
    lines = [
        {"id": "s1", "from": "老陈", "village": "子陵村", "text": "卖葡萄苗5000株"},
        {"id": "s2", "from": "老陈", "village": "330282114201", "text": "卖鸡蛋300斤"},   # 子陵村 by its code
        {"id": "s3", "from": "老陈", "village": "山下村", "text": "卖玉米100斤"},
        {"id": "b1", "from": "老杨", "text": "买葡萄苗"},
    ]
    out = list(await replay(build_config({}, env={}), [json.dumps(x, ensure_ascii=False) for x in lines]))
    by_id = {o.get("id"): o for o in out if "id" in o}
    assert "error" not in by_id["s2"]
    assert by_id["s3"] == {"id": "s3", "error": "from '老陈' is registered in 330282114201; a farmer has one village"}
    assert by_id["b1"]["matched_with"] == ["s1"] and "横河镇子陵村" in by_id["b1"]["replies"][0]


async def test_tq_never_reaches_the_network(caplog: pytest.LogCaptureFixture) -> None:
    config = build_config({"weather": {"forecast_provider": "open-meteo",
                                       "forecast_base_url": "http://forecast.invalid"}}, env={})
    out = list(await replay(config, [json.dumps({"id": "t", "from": "老杨", "text": "TQ"}, ensure_ascii=False)]))
    assert out[0]["replies"] == ["暂时查不到龙山镇明天的天气预报,请稍后再试。"]
    assert not [r for r in caplog.records if "forecast" in r.getMessage()]


def test_replay_command_writes_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in LINES[:2]), encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert main(["replay", str(source), "--output", str(target)]) == 0
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line.get("id") for line in lines[:2]] == ["s1", "s2"]
    assert "summary" in lines[-1]


# --- hostile input files -----------------------------------------------------------------------

_JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                            lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(), kids, max_size=3),
                            max_leaves=8)
_FIELDS = st.fixed_dictionaries({}, optional={k: _JSON_VALUES for k in ("id", "from", "text", "village")})
_LINES = st.one_of(
    st.text(),
    _FIELDS.map(lambda d: json.dumps(d, ensure_ascii=False)),
    _FIELDS.map(json.dumps),   # every non-ASCII character escaped, lone surrogates as "\udxxx"
    st.sampled_from(['{"text": "\\ud83d"}', '{"from": "\\udcff", "text": "x"}', "[" * 5000 + "]" * 5000,
                     '{"text": "x", "from": ' + "9" * 5000 + "}", "\ufeff{}", "{" * 100000]),
)


@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_any_line_is_read_as_storable_fields_or_refused_with_a_reason(line: str) -> None:
    for _, item in read_lines([line]):
        if isinstance(item, str):
            assert item.startswith(("not JSON", "not a JSON object"))
            continue
        json.dumps(item, ensure_ascii=False).encode("utf-8")   # no lone surrogate left anywhere
        for key in ("id", "from", "village"):
            try:
                word = replay_module._word(item, key)
            except replay_module.LineError as exc:
                assert str(exc).startswith(f"{key} must be a string or a whole number, not ")
            else:
                assert word is None or isinstance(word, str)


async def test_lines_with_fields_of_the_wrong_type_or_lone_surrogates_are_errors_or_mended(tmp_path: Path) -> None:
    lines = [
        '{"id": "s", "from": "\\ud83d", "village": "子陵村", "text": "卖葡萄苗5000株\\udcff"}',
        '{"id": "v", "village": [], "text": "卖葡萄苗800株"}',             # was 杨高村, the default
        '{"id": "w", "village": {}, "text": "卖葡萄苗800株"}',
        '{"id": "f", "from": true, "text": "卖葡萄苗800株"}',
        '{"id": "g", "from": [1], "text": "卖葡萄苗800株"}',
        '{"id": null, "from": 5, "text": "买葡萄苗"}',                      # was the id "None"
        '{"id": {"a": 1}, "text": "买葡萄苗"}',
        '{"id": "\\udcff", "text": "你好"}',
        "[" * 100000 + "]" * 100000,                                       # was a RecursionError
        '{"text": "x", "from": ' + "9" * 5000 + "}",                      # was a ValueError
        '{"id": "c", "village": 330282123222, "from": "5", "text": "卖鸡蛋"}',   # 5 and "5": one farmer
    ]
    out = list(await replay(build_config({}, env={}), lines))
    json.dumps(out, ensure_ascii=False).encode("utf-8")
    by_id = {o.get("id"): o for o in out if "id" in o}
    assert by_id["s"]["postings"][0]["product"] == "葡萄苗" and "error" not in by_id["s"]
    assert by_id["v"] == {"id": "v", "error": "village must be a string or a whole number, not a list"}
    assert by_id["w"] == {"id": "w", "error": "village must be a string or a whole number, not an object"}
    assert by_id["f"] == {"id": "f", "error": "from must be a string or a whole number, not true or false"}
    assert by_id["g"]["error"] == "from must be a string or a whole number, not a list"
    assert by_id["6"]["intent"] == "buy"
    assert by_id["7"] == {"id": "7", "error": "id must be a string or a whole number, not an object"}
    assert by_id["\ufffd"]["intent"] == "other"
    assert by_id["9"]["error"].startswith("not JSON we can read: maximum recursion depth exceeded")
    assert by_id["10"]["error"].startswith("not JSON we can read: Exceeds the limit (4300 digits)")
    assert "error" not in by_id["c"]
    summary = out[-1]["summary"]
    assert summary["errors"] == 7 and summary["messages"] == 4 and summary["farmers"] == 3


UTF8 = "; JSON Lines files are UTF-8"


@pytest.mark.parametrize(("data", "message"), [
    (None, "cannot read {path}: Is a directory"),
    (b"", None),
    ('{"id": "a", "text": "卖葡萄"}\n'.encode("gbk"), "{path}: not UTF-8 text (byte 0xc2 on line 1)" + UTF8),
    (b'{"text": "x"}\n' + bytes(range(256)), "{path}: not UTF-8 text (byte 0x80 on line 3)" + UTF8),
], ids=["directory", "missing", "gbk", "binary"])
def test_an_input_file_that_cannot_be_read_is_one_line_and_exit_2(tmp_path: Path, data: bytes | None,
                                                                  message: str | None,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    if data is None:
        path.mkdir()
    elif message is None:
        path = tmp_path / "nope.jsonl"
        message = "cannot read {path}: No such file or directory"
    else:
        path.write_bytes(data)
    assert main(["replay", str(path)]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message.format(path=path) + "\n")


def test_a_bom_is_not_a_broken_first_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes('\ufeff{"id": "a", "text": "卖葡萄"}\r\n'.encode())   # Notepad's "UTF-8"
    assert main(["replay", str(path)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["intent"] == "sell"


@pytest.mark.parametrize("where", ["directory", "missing-directory", "scratch-exists"])
def test_an_output_or_scratch_that_cannot_be_used_is_refused_before_replaying(
        tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "卖葡萄"}\n', encoding="utf-8")
    existing = tmp_path / "old.db"
    existing.write_bytes(b"")
    extra = {"directory": ["--output", str(tmp_path)],
             "missing-directory": ["--output", str(tmp_path / "no" / "out.jsonl")],
             "scratch-exists": ["--scratch", str(existing)]}[where]
    assert main(["replay", str(source), *extra]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"cannot write {extra[1]}: " if where != "scratch-exists" else f"--scratch {existing} exists")
