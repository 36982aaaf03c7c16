"""`farmer-mailbox replay`: the stable JSONL interface over the whole pipeline."""

from __future__ import annotations

import json
from pathlib import Path

from farmer_mailbox.cli import main
from farmer_mailbox.config import build_config
from farmer_mailbox.replay import replay

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
    assert by_id["b1"]["matched_with"] == ["s3", "s2", "s1"]      # same town first (newest first), then county
    assert by_id["b1"]["replies"][0].startswith("求购葡萄苗2000株已登记(编号4)。匹配3条:1.龙山镇山下村")
    assert by_id["c1"]["replies"] == ["已请对方同意,同意后把电话发给您。也可回HF1+内容留言。"]
    assert by_id["x"]["intent"] == "other" and by_id["x"]["matched_with"] == []
    assert by_id["7"]["error"].startswith("not JSON")
    summary = out[-1]["summary"]
    assert summary["messages"] == 6 and summary["errors"] == 1 and summary["farmers"] == 4


def test_replay_command_writes_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in LINES[:2]), encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert main(["replay", str(source), "--output", str(target)]) == 0
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line.get("id") for line in lines[:2]] == ["s1", "s2"]
    assert "summary" in lines[-1]
