"""Every outbound template fits its segment budget with the billed signature, and the market's
list filling never overruns it, whatever the items."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox import market, wording
from farmer_mailbox.market.texts import Described, clip, fit_list, fits, what
from gateways.common import billed_segments

SIGNATURE = "【农民信箱】"


@pytest.mark.parametrize("key", sorted(wording.TEMPLATES))
def test_every_template_sample_fits_its_budget(key: str) -> None:
    template = wording.TEMPLATES[key]
    text = wording.render(key, template.samples)
    assert billed_segments(SIGNATURE, text) <= template.segments, (key, len(SIGNATURE + text))
    assert template.segments <= 2, "one segment for replies, two at most for match lists and alerts"


items = st.lists(st.text(alphabet="葡萄苗横河镇子陵村0123456789元/株.", min_size=1, max_size=40), max_size=30)


@given(items)
def test_match_lists_take_what_fits_and_say_how_many_more(entries: list[str]) -> None:
    params, used = fit_list("posted_matches", {"what": "求购葡萄苗2000株", "id": "12", "count": str(len(entries))},
                            "items", entries, SIGNATURE)
    assert fits("posted_matches", params, SIGNATURE)
    assert 0 <= used <= len(entries)
    if 0 < used < len(entries):
        assert params["items"].endswith(f"等{len(entries) - used}条")


@pytest.mark.parametrize(("posting", "expected"), [
    (Described("sell", "葡萄苗", 5000, "株", 3, None, "元/株"), "出售葡萄苗5000株3元/株"),
    (Described("buy", "玉米", 2, "吨", 1.2, 1.2, "元/斤"), "求购玉米2吨1.2元/斤以内"),
    (Described("sell", "鸡蛋", None, None, 2, 3, "元/斤"), "出售鸡蛋2-3元/斤"),
    (Described("sell", "鸡蛋", 300, "斤", None, None, "面议"), "出售鸡蛋300斤价格面议"),
    (Described("buy", "仔猪", 20, "头"), "求购仔猪20头"),
])
def test_postings_read_as_farmers_say_them(posting: Described, expected: str) -> None:
    assert what(posting) == expected


def test_a_buyers_maximum_reads_as_a_maximum() -> None:
    assert what(Described("buy", "葡萄苗", 2000, "株", None, 4, "元/株")) == "求购葡萄苗2000株4元/株以内"
    assert what(Described("buy", "葡萄苗", 2000, "株", 3, None, "元/株")) == "求购葡萄苗2000株3元/株"
    assert what(Described("buy", "葡萄苗", None, None, 2, 3, "元/株")) == "求购葡萄苗2-3元/株"


@pytest.mark.parametrize("key", ["relay", "mine_list", "posted", "posted_many", "posted_capped", "match_notice",
                                 "match_digest", "relay_clipped", "relay_refused", "ref_closed", "price_report"])
def test_market_replies_that_are_no_match_list_take_one_segment(key: str) -> None:
    assert wording.TEMPLATES[key].segments == 1


@pytest.mark.parametrize("key", ["posted_matches", "mine_matches", "query_results"])
def test_match_lists_may_take_two_segments(key: str) -> None:
    assert wording.TEMPLATES[key].segments == 2


@given(items, st.integers(0, 100))
def test_the_postings_list_stays_in_one_segment(entries: list[str], extra: int) -> None:
    params, used = fit_list("mine_list", {}, "items", entries, SIGNATURE, extra=extra)
    assert fits("mine_list", params, SIGNATURE)
    left = len(entries) + extra - used
    if entries and left:
        assert params["items"].endswith(f"等{left}条")


@given(st.text(min_size=1, max_size=300))
def test_a_relayed_message_is_clipped_to_one_segment(message: str) -> None:
    params = clip("relay", {"n": "1234", "message": message}, "message", SIGNATURE)
    assert fits("relay", params, SIGNATURE)
    assert params["message"] == message or params["message"].endswith("…")


def test_an_item_too_long_for_the_list_is_clipped_not_left_out() -> None:
    params, used = fit_list("mine_list", {}, "items", ["1234567出售" + "特别优质的" * 12, "2出售鸡蛋"], SIGNATURE)
    assert used == 1 and params["items"].startswith("1234567出售特别优质的") and params["items"].endswith("…等1条")
    assert fits("mine_list", params, SIGNATURE)


def _literals_with_chinese(path: Path) -> list[tuple[int, str]]:
    """String literals holding Chinese characters, except docstrings and the private patterns a
    module reads text with (moderation's `_CN_DIGITS`, `_DOT`: what farmers write, not what they get)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            skipped.add(id(node.body[0].value))
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.startswith("_") and t.id.isupper()
                                                for t in node.targets):
            skipped.update(id(inner) for inner in ast.walk(node.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped
            and re.search(r"[\u4e00-\u9fff]", node.value)]


@pytest.mark.parametrize("path", sorted((Path(market.__file__).parent).glob("*.py")), ids=lambda p: p.name)
def test_user_facing_chinese_lives_in_wording(path: Path) -> None:
    """All market text is reviewable in one place: wording.py (the stored price unit 面议 is a value)."""
    assert [(line, text) for line, text in _literals_with_chinese(path) if text != "面议"] == []
