"""Numbers, quantities and prices as farmers write them (table tests and properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.text.numbers import find_prices, find_quantities, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五百", (500, None)),
        ("两", (2, None)),
        ("一万二", (12000, None)),
        ("3千", (3000, None)),
        ("1.5万", (15000, None)),
        ("3千5", (3500, None)),
        ("两三百", (200, 300)),
        ("三四十", (30, 40)),
        ("一两", (1, 2)),
        ("1,000", (1000, None)),
        ("壹佰", (100, None)),
        ("半", (0.5, None)),
        ("一点五", (1.5, None)),
    ],
)
def test_amounts(text: str, expected: tuple[float, float | None]) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "unit", "base"),
    [
        ("收包谷两吨", 2, "吨", 4000),
        ("葡萄苗五百株", 500, "株", 500),
        ("50公斤", 50, "公斤", 100),
        ("50千克", 50, "公斤", 100),
        ("20kg", 20, "公斤", 40),
        ("一吨半", 1.5, "吨", 3000),
        ("两三百斤", 200, "斤", 200),
        ("100多斤", 100, "斤", 100),
        ("5万株", 50000, "株", 50000),
        ("1000棵", 1000, "棵", 1000),
        ("300羽", 300, "羽", 300),
        ("２０００斤", 2000, "斤", 2000),
        ("2公顷", 2, "公顷", 30),
    ],
)
def test_quantities(text: str, value: float, unit: str, base: float) -> None:
    from farmer_mailbox.text.normalize import normalize

    text = normalize(text).replace("千克", "公斤")
    (quantity,) = find_quantities(text, find_prices(text))
    assert (quantity.value, quantity.unit.name, quantity.base_value) == (value, unit, base)


@pytest.mark.parametrize(
    "text",
    ["每头250斤左右", "3斤/只", "2斤重", "每亩500斤", "一斤", "50斤一袋", "30个一盒", "3个月"],
)
def test_sizes_and_units_are_not_amounts(text: str) -> None:
    assert find_quantities(text, find_prices(text)) == []


@pytest.mark.parametrize(
    ("text", "price", "high", "per"),
    [
        ("1块5一斤", 1.5, None, "斤"),
        ("两块钱一斤", 2, None, "斤"),
        ("每斤2.3元", 2.3, None, "斤"),
        ("3元/斤", 3, None, "斤"),
        ("每株3元", 3, None, "株"),
        ("8毛一斤", 0.8, None, "斤"),
        ("两毛五一斤", 0.25, None, "斤"),
        ("每株5分钱", 0.05, None, "株"),
        ("2-3元", 2, 3, None),
        ("两三块", 2, 3, None),
        ("2.5~3元/斤", 2.5, 3, "斤"),
        ("一斤3块", 3, None, "斤"),
        ("1500一头", 1500, None, "头"),
        ("3万一台", 30000, None, "台"),
        ("每吨2400元", 2400, None, "吨"),
        ("1.5元/kg", 1.5, None, "公斤"),
        ("工资150元一天", 150, None, "天"),
        ("10元3斤", 3.33, None, "斤"),
        ("价格3", 3, None, None),
        ("¥5/个", 5, None, "个"),
    ],
)
def test_prices(text: str, price: float, high: float | None, per: str | None) -> None:
    (found,) = find_prices(text)
    assert (found.value, found.high, found.per) == (price, high, per)


@pytest.mark.parametrize("text", ["价格面议", "价钱好商量", "价格好说", "面谈"])
def test_negotiable(text: str) -> None:
    (found,) = find_prices(text)
    assert found.negotiable and found.value is None


@given(st.integers(min_value=1, max_value=99_999))
def test_arabic_amounts_read_back(n: int) -> None:
    assert parse_amount(str(n)) == (n, None)


@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_numerals_read_back(n: int) -> None:
    import cn2an

    assert parse_amount(cn2an.an2cn(n)) == (n, None)


@given(st.integers(min_value=2, max_value=9_999), st.sampled_from(["斤", "吨", "株", "头", "只", "亩"]))
def test_any_amount_with_a_unit_is_found(n: int, unit: str) -> None:
    text = f"卖{n}{unit}"
    (quantity,) = find_quantities(text, find_prices(text))
    assert quantity.value == n and quantity.unit.name == unit
