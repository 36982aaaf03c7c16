"""The segmenter agrees with jieba; the CLI prints one JSON object per line."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.text.cli import add_parse_arguments, run_parse
from farmer_mailbox.text.segment import default_segmenter
from tests.text.text_corpus import load


def test_fast_cut_equals_jieba_cut_on_the_corpus() -> None:
    segmenter = default_segmenter()
    for case in load("corpus_dev.tsv"):
        assert segmenter.words(case.text) == list(segmenter.cut(case.text))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="卖收玉米葡萄苗鸡蛋的了是有 abcXYZ0123.%-\n\t，", max_size=60))
def test_fast_cut_equals_jieba_cut_on_any_text(text: str) -> None:
    segmenter = default_segmenter()
    assert segmenter.words(text) == list(segmenter.cut(text))


def _run(argv: list[str], stdin: str) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser()
    add_parse_arguments(parser)
    out = io.StringIO()
    assert run_parse(parser.parse_args(argv), None, io.StringIO(stdin), out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_cli_reads_lines_and_skips_blank_ones() -> None:
    rows = _run([], "卖玉米2吨\n\n帮助\n")
    assert [r["intent"] for r in rows] == ["sell", "command"]


def test_cli_text_option() -> None:
    (row,) = _run(["--text", "TD"], "ignored\n")
    assert row["command"] == {"name": "opt_out", "args": []}


def test_module_runs_standalone() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "farmer_mailbox.text", "--text", "收购 仔猪20头"],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=60,
    )
    row = json.loads(done.stdout)
    assert row["postings"][0]["product"] == "仔猪" and "仔猪" in done.stdout
