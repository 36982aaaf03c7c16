"""The marketplace's short commands with numbers: renew (续期/XQ), WD n, Y n, N n."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.text import parse


@pytest.mark.parametrize(("text", "name", "args"), [
    ("XQ 12", "renew", ("12",)), ("续期12", "renew", ("12",)), ("XQ", "renew", ()), ("延期 3", "renew", ("3",)),
    ("WD 12", "mine", ("12",)), ("我的12", "mine", ("12",)), ("WD", "mine", ()),
    ("Y 3", "yes", ("3",)), ("同意3", "yes", ("3",)), ("Y", "yes", ()), ("y1", "yes", ("1",)),
    ("N", "no", ()), ("N1", "no", ("1",)), ("拒绝", "no", ()), ("不同意2", "no", ("2",)),
])
def test_numbered_commands(text: str, name: str, args: tuple[str, ...]) -> None:
    command = parse(text).command
    assert command is not None and (command.name, command.args) == (name, args)


@pytest.mark.parametrize("text", ["价格面议", "卖葡萄苗5000株", "拒绝转基因 卖大豆100斤", "同意价格 收玉米两吨"])
def test_postings_are_not_taken_for_commands(text: str) -> None:
    result = parse(text)
    assert result.command is None or result.command.name not in ("no", "yes", "renew")


@given(st.integers(min_value=1, max_value=999999), st.sampled_from(["XQ", "续期", "WD", "Y", "N", "同意", "拒绝"]))
def test_numbers_round_trip_and_opt_out_still_wins(n: int, word: str) -> None:
    command = parse(f"{word}{n}").command
    assert command is not None and command.args == (str(n),)
    stop = parse(f"{word}{n} TD").command
    assert stop is not None and stop.name == "opt_out"
