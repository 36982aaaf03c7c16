"""Region codes: depth of zero-padded codes and the distance table."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.matching import padded, region_depth, region_distance, region_prefixes

YANGGAO = "330282123222"  # 杨高村, 龙山镇, 慈溪市, 宁波市, 浙江省


@pytest.mark.parametrize(
    ("code", "depth"),
    [
        ("330282123222", 5),  # village
        ("330282123200", 5),  # village segment 200 ends in zeros: still a village
        ("330282114000", 4),  # 横河镇, village unknown
        ("330282110000", 4),  # 匡堰镇: town segment 110 ends in a zero
        ("330282000000", 3),  # 慈溪市 (county level)
        ("330200000000", 2),  # 宁波市
        ("330000000000", 1),  # 浙江省
        ("441900003001", 5),  # 东莞: county segment 00 is real, not padding
        ("441900003000", 4),
        ("441900000000", 2),
    ],
)
def test_depth(code: str, depth: int) -> None:
    assert region_depth(code) == depth


def test_prefixes_name_each_level() -> None:
    assert region_prefixes(YANGGAO) == ("33", "3302", "330282", "330282123", "330282123222")
    assert region_prefixes("441900003000") == ("44", "4419", "441900", "441900003")


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        (YANGGAO, YANGGAO, 0),  # same village
        (YANGGAO, "330282123201", 1),  # same town (龙山镇)
        (YANGGAO, "330282114201", 2),  # same county, other town (横河镇)
        (YANGGAO, "330281001001", 3),  # same city, other county
        (YANGGAO, "330102001001", 4),  # same province, other city
        (YANGGAO, "440802001001", 5),  # other province
        # zero-padded codes compare at the deepest level both define
        (YANGGAO, "330282123000", 1),  # the village's own town, village unknown
        ("330282123000", "330282123000", 1),  # two postings of the same town, villages unknown
        (YANGGAO, "330282114000", 2),  # another town of the same county
        (YANGGAO, "330282000000", 2),  # the county itself
        ("330282000000", "330282000000", 2),
        (YANGGAO, "330200000000", 3),  # the city itself
        (YANGGAO, "330000000000", 4),  # the province itself
        ("330000000000", "440000000000", 5),
        ("330282114000", "330281000000", 3),  # town vs other county of the same city
        # 东莞 has no counties: its towns share county prefix 441900
        ("441900003001", "441900003002", 1),
        ("441900003001", "441900004001", 2),
        ("441900003001", "441900000000", 3),  # the city code defines only two levels
        ("441900003001", "441901000000", 3),
    ],
)
def test_distance_table(a: str, b: str, distance: int) -> None:
    assert region_distance(a, b) == distance
    assert region_distance(b, a) == distance


@pytest.mark.parametrize(
    "code", ["", "33028212322", "3302821232221", "33028212322a", "000000000000", "３３０２８２１２３２２２"]
)
def test_invalid_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="region code"):
        region_distance(code, YANGGAO)


def test_padded() -> None:
    assert padded("330282") == "330282000000"
    assert padded("") == "000000000000"


segment = st.sampled_from(["1", "2"])
villages = st.builds(
    lambda p, c, k, t, v: f"3{p}0{c}0{k}00{t}00{v}", segment, segment, segment, segment, segment
)


@given(villages, villages, villages)
def test_full_codes_form_an_ultrametric(a: str, b: str, c: str) -> None:
    assert region_distance(a, a) == 0
    assert region_distance(a, b) == region_distance(b, a)
    assert region_distance(a, c) <= max(region_distance(a, b), region_distance(b, c))


@given(villages, st.integers(min_value=1, max_value=5))
def test_padding_a_code_caps_how_close_it_can_be(code: str, depth: int) -> None:
    cut = padded(region_prefixes(code)[depth - 1])
    assert region_distance(code, cut) == 5 - depth
