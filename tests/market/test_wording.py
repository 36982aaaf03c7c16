"""Every outbound template fits its segment budget with the billed signature, and the market's
list filling never overruns it, whatever the items."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox import wording
from farmer_mailbox.market.texts import Described, fit_list, fits, what
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
