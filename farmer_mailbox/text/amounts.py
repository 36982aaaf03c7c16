"""Readings of amounts and prices that look beyond one match, as a clerk would make them.

- Two prices joined by 到/至/- are one range (1块2到1块5); a price said as an upper limit
  (3元以内, 不超过3元, 最高3.5元) is a ceiling: price = price_max, which the market shows a
  buyer as "3元/株以内".
- A price said for all (每斤都是2元, 均为, 一律) prices every product listed.
- A spoken amount without a unit (卖玉米两千五) is in 斤 after a product sold by weight and in 株
  after seedlings; a spoken sum after a machine (卖收割机 二手 6万) is its price. Only spoken
  amounts with a magnitude count (两千五, 一万二, 3千, 5k): a bare 2400 is as often a price per
  吨 and is left alone, and so is anything after livestock (卖牛 一万二 is a price).
- The amount a product owns is one in a unit it can be counted in (一台 is a machine's, 20头 an
  animal's), and not a lone 一头 of another kind (卖猪肉 一头猪的肉 300斤: 300斤).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from farmer_mailbox.text.lexicon import Product
from farmer_mailbox.text.numbers import (
    CN_NUMERALS,
    CURRENCY,
    MAGNITUDE,
    RANGE_SEP,
    UNIT_PATTERN,
    Price,
    Quantity,
    Unit,
    overlaps,
    parse_amount,
    unit,
)

_CEILING_HINT = re.compile("以内|以下|之内|不超过|不超|不高于|最高|最多|顶多|封顶|上限")
_CEILING_AFTER = re.compile(r"\s*(?:以内|以下|之内)")
_CEILING_BEFORE = re.compile(
    r"(?:不超过|不超|不高于|最高|最多|顶多|封顶|上限)\s*(?:价格?|价钱|单价|出价)?\s*(?:是|为|:)?\s*$"
)
_CEILING_INSIDE = re.compile("不超过|不超|不高于|最高|最多|顶多")
_RANGE_GAP = re.compile(rf"\s*{RANGE_SEP}\s*$")
_SHARED = re.compile("都|均|一律|统一|全部|全是")
_LIST_GAP = re.compile(r"^[\s,、和及与跟/]*$")

_BARE_AMOUNT = re.compile(
    rf"(?<![0-9.{CN_NUMERALS}第每])"
    rf"(?P<v>(?:\d+(?:\.\d+)?{MAGNITUDE}+[0-9一二两三四五六七八九]?|[{CN_NUMERALS}]*[十百千万][{CN_NUMERALS}]*))"
    rf"(?![0-9.{CN_NUMERALS}a-z]|\s*(?:{UNIT_PATTERN}|{CURRENCY}|多|来|余|几|毛|角|分|号|点|个))"
)
_BARE_FLOOR = 100.0  # a clerk reads 两千五 as 2500斤 of grain, but 十 is no amount of anything
_JIN = Unit("斤", "斤", "斤", 1.0)
_SPOKEN_UNITS = {"斤": _JIN, "公斤": _JIN, "株": Unit("株", "株", "株", 1.0)}
MACHINE_UNITS = frozenset(("台", "辆", "部", "套"))
# Units only some categories are counted in: 一台 is a machine's, 20头 an animal's (三七 20头 is a
# grade, 一台收割机 beside 机收服务 is the service's means).
UNIT_KINDS = {"台": ("农机",), "辆": ("农机",), "头": ("畜禽",), "匹": ("畜禽",)}


def refine_prices(text: str, found: list[Price]) -> list[Price]:
    """Prices read together: ranges of two prices joined, ceilings marked (price_max = price)."""
    if not found:
        return found
    if len(found) > 1:
        found = _ranges(text, found)
    if _CEILING_HINT.search(text) is not None:
        found = [_as_ceiling(text, price) for price in found]
    return found


def _ranges(text: str, found: list[Price]) -> list[Price]:
    """"1块2到1块5": two prices joined by 到/至/- are one range."""
    merged: list[Price] = []
    for price in found:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.value is not None
            and price.value is not None
            and last.high is None
            and price.high is None
            and price.value > last.value
            and (last.per is None or price.per is None or last.per == price.per)
            and _RANGE_GAP.match(text[last.end : price.start])
        ):
            merged[-1] = Price(last.start, price.end, last.value, price.value, price.per or last.per)
            continue
        merged.append(price)
    return merged


def _as_ceiling(text: str, price: Price) -> Price:
    """A single price said as an upper limit becomes the range top as well (price = price_max)."""
    if price.value is None or price.high is not None:
        return price
    before = text[max(0, price.start - 8) : price.start]
    inside = _CEILING_INSIDE.search(text, price.start, price.end) is not None  # 每株最多3块
    if inside or _CEILING_AFTER.match(text, price.end) or _CEILING_BEFORE.search(before):
        return price._replace(high=price.value)
    return price


def shared_price(text: str, price: Price) -> bool:
    """"梨500斤 每斤都是2元", "均为2元", "一律2元": a price said for every product listed."""
    return _SHARED.search(text, max(0, price.start - 3), price.end) is not None


def bare_amounts(text: str, taken: list[Price]) -> list[tuple[int, int, float]]:
    """Spoken amounts without a unit outside the price spans in `taken`: (start, end, value)."""
    found = []
    for match in _BARE_AMOUNT.finditer(text):
        if overlaps(match.start(), match.end(), taken):
            continue
        amount = parse_amount(match["v"])
        if amount is not None and amount[0] >= _BARE_FLOOR:
            found.append((match.start(), match.end(), amount[0]))
    return found


def spoken_weight(text: str, product: Product, after: int, prices: list[Price]) -> list[Quantity]:
    """"卖玉米两千五": the amount said without a unit right after the product (which ends at
    `after`), in the unit a clerk would read it in; [] when there is none."""
    found = _SPOKEN_UNITS.get(product.unit)
    if found is None:
        return []
    for start, end, value in bare_amounts(text, prices):
        if start >= after and _LIST_GAP.match(text[after:start]):
            return [Quantity(start, end, value, found)]
    return []


def spoken_price(text: str, product: Product, after: int, quantities: Sequence[Quantity]) -> list[Price]:
    """"卖收割机 久保田 二手 6万": a spoken sum after a machine is its price (nobody sells 60,000
    harvesters); [] when there is none."""
    per = product.unit
    if per not in MACHINE_UNITS:
        return []
    for start, end, value in bare_amounts(text, []):
        if start >= after and not any(start < q.end and q.start < end for q in quantities):
            return [Price(start, end, value, None, per)]
    return []


def main_quantity(quantities: list[Quantity], product: Product) -> Quantity | None:
    """The amount on offer among those a product owns, or None."""
    if not quantities:
        return None
    if len(quantities) == 1 and quantities[0].unit.name not in UNIT_KINDS:
        return quantities[0]  # the common case
    quantities = [q for q in quantities if product.category in UNIT_KINDS.get(q.unit.name, (product.category,))]
    if not quantities:
        return None
    first = quantities[0]
    if first.value != 1 or len(quantities) == 1:
        return first
    usual = unit(product.unit)
    weighed = usual is not None and usual.is_weight
    if first.unit.is_weight == weighed:
        return first
    return next((q for q in quantities[1:] if q.unit.is_weight == weighed), first)
