"""Numbers, quantities and prices as farmers write them.

Reads Arabic and Chinese numerals with 万/千/百 (五百, 两吨, 一万二, 3千, 1.5万), full-width digits
(already folded by `normalize`), ranges (2-3元, 两三百斤), 1块5 / 两块钱一斤 / 每斤2.3元 / 8毛,
and 面议. Chinese numerals go through cn2an; only ranges and money decimals are read by hand.

Weights normalise to 斤 because that is how farmers count (1公斤 = 2斤, 1吨 = 2000斤); other units
normalise through `data/units.csv` (棵 → 株, 羽 → 只, 公顷 → 亩 ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import cn2an

from farmer_mailbox.text._data import read_rows


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit word, its canonical spelling, and how it converts to its base unit."""

    word: str
    name: str
    base: str
    factor: float

    @property
    def is_weight(self) -> bool:
        """True for 斤, 公斤, 吨, 克 ...: units that normalise to 斤."""
        return self.base == "斤"


class Quantity(NamedTuple):
    """An amount with its unit, found at text[start:end]."""

    start: int
    end: int
    value: float
    unit: Unit

    @property
    def base_value(self) -> float:
        """The amount in the unit's base unit (斤 for weights)."""
        return round(self.value * self.unit.factor, 6)


class Price(NamedTuple):
    """A price (or range, or 面议) found at text[start:end]; `per` is the unit priced, if said."""

    start: int
    end: int
    value: float | None
    high: float | None
    per: str | None
    negotiable: bool = False
    one: bool = False  # said as "一台8000元": the unit price of a single item on offer


def _load_units() -> dict[str, Unit]:
    rows = read_rows("units.csv")
    return {r["word"]: Unit(r["word"], r["unit"], r["base"], float(r["factor"])) for r in rows}


_UNITS = _load_units()
_TIME_UNITS = ("小时", "天", "日", "月", "年", "趟", "次", "季")

_CN = "零〇一二两俩三仨四五六七八九十百千万亿廿壹贰叁肆伍陆柒捌玖拾佰仟"
_DIG = "0-9一二两三四五六七八九"
# A number: Arabic (with Chinese magnitudes, 3千5, 1.5万) or a run of Chinese numerals (一万二).
# Latin shorthand for the magnitudes after digits: 5k = 5千, 5w = 5万 (but 5kg is five kilograms).
_MAGNITUDE = r"(?:[十百千万亿]|[kw](?![a-z]))"
_NUM_P = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?(?:{_MAGNITUDE}+[{_DIG}]?)*|[{_CN}][{_CN}点]*)"
NUM = rf"(?:{_NUM_P}|半)"
_RANGE_SEP = r"(?:-|~|到|至)"
_VALUE = rf"(?P<v>{_NUM_P})(?:\s*(?:元|块)?\s*{_RANGE_SEP}\s*(?P<v2>{_NUM_P}))?"
_NOT_AFTER_NUM = r"(?<![0-9.])"
# Pieces of the patterns, for the readings in amounts.py.
CN_NUMERALS, MAGNITUDE, RANGE_SEP = _CN, _MAGNITUDE, _RANGE_SEP


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Unit words that also start ordinary words get a guard (3个月 is no quantity, 包邮 is no 包).
_GUARDS = {
    "个": "(?![月星礼小钟多])",
    "方": "(?![便面法式向])",
    "部": "(?!分)",
    "包": "(?![邮装])",
    "根": "(?!系)",
    "套": "(?!袋)",
    "升": "(?![级高])",
    "t": "(?![a-z])",
    "g": "(?![a-z])",
    "kg": "(?![a-z])",
    "头": "(?![发])",
    "条": "(?![件])",
    "位": "(?![数置])",
    "对": "(?![面方于的了象比着待])",
    "口": "(?![感味气号岸子径])",
    "支": "(?![持付援出撑])",
    "枝": "(?![条叶])",
}
# Latin units (2000 jin, 5 mu) must not run into more letters: "2 gege" is none.
_GUARDS.update({word: "(?![a-z])" for word in _UNITS if word.isascii() and word not in _GUARDS})
_UNIT = "(?:" + "|".join(
    re.escape(w) + _GUARDS.get(w, "") for w in sorted(_UNITS, key=len, reverse=True)
) + ")"
_PER_UNIT = "(?:" + _UNIT + "|" + _alternation(list(_TIME_UNITS)) + ")"
UNIT_PATTERN = _UNIT
_CUR = r"(?:块钱|元钱|元|块(?![地田石砖板])|圆|yuan(?![a-z])|kuai(?![a-z])|rmb(?![a-z]))"
CURRENCY = _CUR
# Last characters of unit words: "3斤一盒" packs 3斤 in a box; its 一盒 is neither price nor amount.
_UNIT_ENDS = "斤克吨袋箱个只头条根盒筐件"
_JIAO = rf"(?:(?P<jiao>[0-9一二两三四五六七八九])(?:毛|角)?(?![0-9.]|{_PER_UNIT}))?"
_AFTER = (
    rf"(?:\s*(?:/|每|一个|每个|一|1)\s*(?P<u>{_PER_UNIT})"
    rf"|(?P<n>[2-9]|10|[两三四五六七八九十])(?P<nu>{_UNIT}))?"
)
_PREFIX = rf"(?:(?<![0-9.{_CN}{_UNIT_ENDS}])(?:(?P<each>每)|一|1)|(?P<each1>每一))(?P<pu>{_PER_UNIT})"

PRICE_PATTERNS = (
    # 每斤2.3元, 一斤3块, 每株3元, 每头1500
    re.compile(
        rf"{_PREFIX}\s*(?:价格?|单价)?\s*(?:都|均|一律|统一|全)?\s*(?:是|为|:|在)?\s*"
        rf"(?:不低于|不少于|最低|至少|不超过|不高于|最高|最多)?\s*{_VALUE}\s*"
        rf"(?:{_CUR}{_JIAO}|(?P<mao>毛|角)钱?|(?P<fen2>分)钱|(?P<bare>)(?!\s*(?:{_UNIT}|多|来|余|几|分|毛|角|[0-9.{_CN}])))"
    ),
    # 3元/斤, 1块5一斤, 两块钱一斤, 2-3元, 8000元, 10元3斤
    re.compile(rf"{_NOT_AFTER_NUM}{_VALUE}\s*{_CUR}{_JIAO}\s*{_AFTER}"),
    # ¥3.5/斤
    re.compile(rf"¥\s*{_VALUE}{_AFTER}"),
    # 2.3一斤, 1500一头 (no currency, priced per unit)
    re.compile(rf"(?<![0-9.毛角块元]){_VALUE}\s*(?:/|一|每)\s*(?P<u>{_PER_UNIT})"),
    # 单价2.3, 价格3, 收购价1.2元
    re.compile(
        rf"(?:单价|价格|价钱|售价|卖价|收购价|价位|报价|工资|工钱|价)\s*(?:是|为|:|在|约)?\s*"
        rf"{_VALUE}\s*{_CUR}?{_JIAO}{_AFTER}"
    ),
    # 8毛, 五毛钱一斤, 两毛五一斤
    re.compile(
        rf"{_NOT_AFTER_NUM}(?P<m>{_NUM_P})(?:毛|角)(?![猪鸡豆桃栗竹笋驴])"
        rf"(?:(?P<fen>[1-9一二两三四五六七八九])(?![0-9.]|{_PER_UNIT}))?钱?{_AFTER}"
    ),
    # 每株5分钱
    re.compile(rf"{_PREFIX}\s*(?P<c>{_NUM_P})分钱"),
    re.compile(rf"{_NOT_AFTER_NUM}(?P<c>{_NUM_P})分钱{_AFTER}"),
)


def _any_of(chars: str) -> re.Pattern[str]:
    """A pattern finding any one of `chars`: a cheaper test than a set's isdisjoint on Chinese
    text (which makes a string object of every character it looks at)."""
    return re.compile("[" + "".join(re.escape(ch) for ch in chars) + "]")


# Where a match of a price pattern can begin: at 每/一/1 or at a number. The patterns open with a
# lookbehind, so the regex engine would otherwise try every position of the text in turn.
_EACH = _any_of("每一1")
_NUMBER = re.compile(rf"[\d{_CN}]")
_NUMBER_END = rf"[\d{_CN}点kw]"  # the last character of a number (_NUM_P)
# What a text must hold for each price pattern to have a chance, as a pattern that opens with a
# character class (cheap to scan for; most texts fail most of them), and where its matches can
# begin when the engine cannot skip ahead by itself.
_NEEDS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (re.compile(rf"[每一1]{_PER_UNIT}"), _EACH),
    (re.compile(rf"{_NUMBER_END}\s*(?:[元块圆]|yuan|kuai|rmb)"), _NUMBER),
    (_any_of("¥"), None),
    (re.compile(rf"{_NUMBER_END}\s*[/一每]"), _NUMBER),
    (_any_of("价资钱"), None),
    (re.compile(rf"{_NUMBER_END}[毛角]"), _NUMBER),
    (re.compile(rf"{_NUMBER_END}分钱"), _EACH),
    (re.compile(rf"{_NUMBER_END}分钱"), _NUMBER),
)
_MAY_NEGOTIATE = _any_of("议商谈说")
_NUMERALS = _any_of("0123456789" + _CN + "半")
_AMOUNT = re.compile(rf"[\d{_CN}半]")  # where a QUANTITY match can begin
NEGOTIABLE = re.compile(
    r"面议|面谈|议价|电议|价格?好商量|价钱好商量|好商量|可商量|商量|价格?可议|价格?可谈|价格?好说"
    r"|价钱好说|详谈|另议"
)
QUANTITY = re.compile(
    rf"{_NOT_AFTER_NUM}(?P<v>{NUM})(?:\s*{_RANGE_SEP}\s*(?P<v2>{NUM}))?(?P<approx>多|来|余|几)?\s?"
    rf"(?P<u>{_UNIT})(?P<half>半)?"
)
# Weight said per animal or per item ("每头250斤", "3斤/只", "2斤重"): a size, not an amount.
# "一箱10斤", "一个十来斤" (the size of one), "多少钱一吨" (the unit asked about) too.
_SPEC_BEFORE = re.compile(
    r"(每[头只个条尾株棵亩箱袋盒件]|[一1][只个条尾箱袋盒件筐包桶]|单|均|平均|头重|只重|个重|单重|体重|重约|约重"
    r"|亩产|产量|钱|价|起订|起售|起卖|起批)\s*$"
)
_WEIGHED_NEXT = re.compile(rf"\s*{_NUM_P}\s*(?:多|来|余|几)?\s*(?:斤|公斤|千克|kg)")
_MINIMUM = re.compile(r"\s*(?:起卖|起售|起订|起批|起发)")  # "10斤起卖": the least one sells
_SPEC_AFTER = re.compile(r"^\s*(?:多|左右)?\s*(?:重|(?:/|一|每)\s*[只头个条尾枚株棵箱袋件盒筐亩])")

# "30个一盒", "50斤/袋": goods sold by the pack; a bare price is then per pack.
_PACKS = "[箱袋件盒筐包桶瓶板盘扎捆篓]"
_PACK_CHARS = re.compile(_PACKS)
PACK = re.compile(rf"^\s*(?:/|一|每)\s*(?P<pack>{_PACKS})")
_PACKED = re.compile(rf"(?:[0-9{_CN}]\s*[斤克吨个只枚头条根株棵]|kg|g)\s*(?:/|一|每)\s*(?P<pack>{_PACKS})")


def pack_unit(text: str) -> str | None:
    """The pack a message sells by ("30个一盒" → 盒), if it names one."""
    if _PACK_CHARS.search(text) is None:
        return None
    match = _PACKED.search(text)
    return match["pack"] if match else None


_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_RANGE = re.compile(r"^([一二两三四五六七八九])([二两三四五六七八九])([十百千万]*)$")
_FOLD = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟俩仨廿kw", "一二三四五六七八九十百千两三廿千万")


def unit(word: str) -> Unit | None:
    """The unit a word names (公斤, kg, 棵 ...), or None."""
    return _UNITS.get(word)


def unit_words() -> tuple[str, ...]:
    """Every unit spelling the reader knows."""
    return tuple(_UNITS)


@lru_cache(maxsize=4096)
def parse_amount(text: str) -> tuple[float, float | None] | None:
    """Read a written number: (value, None), a range (low, high), or None when unreadable."""
    text = text.strip().replace(",", "").translate(_FOLD)
    if not text:
        return None
    if text == "半":
        return 0.5, None
    match = _CN_RANGE.match(text)
    if match and _CN_DIGIT[match[2]] > _CN_DIGIT[match[1]]:
        scale = _cn_value("一" + match[3]) if match[3] else 1.0
        if scale is not None:
            return _CN_DIGIT[match[1]] * scale, _CN_DIGIT[match[2]] * scale
    value = _cn_value(text)
    return None if value is None else (value, None)


def _cn_value(text: str) -> float | None:
    """Arabic, Chinese or mixed numerals through cn2an; None when it cannot read them."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return float(value)


def _range(groups: dict[str, str | None], first: str = "v") -> tuple[float, float | None] | None:
    """The value or range named by groups `v`/`v2` of a match (its groupdict, made once)."""
    low = parse_amount(groups[first] or "")
    if low is None:
        return None
    second = groups.get("v2") if first == "v" else None
    high = parse_amount(second) if second else None
    if high is not None:
        return low[0], high[0]
    return low


def find_prices(text: str) -> list[Price]:
    """All prices in `text`, left to right, without overlaps (earlier patterns win)."""
    found: list[Price] = []
    numeric = _NUMERALS.search(text) is not None
    for pattern, (needs, opens) in zip(PRICE_PATTERNS, _NEEDS, strict=True) if numeric else ():
        if needs.search(text) is None:
            continue
        first = opens.search(text) if opens is not None else None
        if opens is not None and first is None:
            continue
        for match in pattern.finditer(text, first.start() if first is not None else 0):
            if _overlaps(match.start(), match.end(), found):
                continue
            price = _price(match)
            if price is not None:
                found.append(price)
    for match in NEGOTIABLE.finditer(text) if _MAY_NEGOTIATE.search(text) else ():
        if not _overlaps(match.start(), match.end(), found):
            found.append(Price(match.start(), match.end(), None, None, None, negotiable=True))
    return sorted(found, key=lambda p: p.start)


def _price(match: re.Match[str]) -> Price | None:
    """Turn one price match into a Price, applying 1块5 decimals and 10元3斤 splits."""
    groups = match.groupdict()
    first = "m" if groups.get("m") else ("c" if groups.get("c") else "v")
    amount = _range(groups, first)
    if amount is None:
        return None
    low, high = amount
    if first != "v":
        fen = parse_amount(groups["fen"]) if groups.get("fen") else None
        low, high = (low / 10 + (fen[0] / 100 if fen else 0.0) if first == "m" else low / 100), None
    elif groups.get("mao") or groups.get("fen2"):
        scale = 10 if groups.get("mao") else 100
        low, high = low / scale, None if high is None else high / scale
    if groups.get("jiao"):  # 1块5; in "1块到1块2" the 2 is the top's
        jiao = parse_amount(groups["jiao"])
        if high is None and low.is_integer():
            low += jiao[0] / 10 if jiao else 0
        elif high is not None and high.is_integer():
            high += jiao[0] / 10 if jiao else 0
    per = groups.get("u") or groups.get("pu") or groups.get("nu")
    count = parse_amount(groups["n"]) if groups.get("n") else None
    if count and count[0] > 1:
        low, high = round(low / count[0], 2), None if high is None else round(high / count[0], 2)
    if high is not None and high <= low:
        high = None
    if not 0 < low <= 1e7:
        return None
    one = bool(groups.get("pu")) and not (groups.get("each") or groups.get("each1"))
    return Price(match.start(), match.end(), round(low, 4), high, _unit_name(per), one=one)


def _unit_name(word: str | None) -> str | None:
    if word is None:
        return None
    found = _UNITS.get(word)
    return found.name if found else word


def find_quantities(text: str, taken: list[Price]) -> list[Quantity]:
    """All quantities in `text` outside the price spans in `taken`, left to right."""
    found: list[Quantity] = []
    first = _AMOUNT.search(text)
    if first is None or _NUMERALS.search(text) is None:
        return found
    for match in QUANTITY.finditer(text, first.start()):
        if _overlaps(match.start(), match.end(), taken):
            continue
        quantity = _quantity(text, match)
        if quantity is not None:
            found.append(quantity)
    if len(found) > 1:
        found = _without_sizes(text, found)
    return found


_SIZE_OF = re.compile(r"\s*(?:多|左右|上下)?\s*的")


def _without_sizes(text: str, found: list[Quantity]) -> list[Quantity]:
    """"卖仔猪 40斤左右的 15头": a weight said as "N斤的" beside a count is the size of each."""
    if "的" not in text or all(q.unit.is_weight for q in found):
        return found
    return [q for q in found if not (q.unit.is_weight and _SIZE_OF.match(text, q.end))]


def _quantity(text: str, match: re.Match[str]) -> Quantity | None:
    """One quantity match, or None when it is a size spec (每头250斤) or unreadable."""
    found = _UNITS[match["u"]]
    before, after = text[max(0, match.start() - 4) : match.start()], text[match.end() : match.end() + 4]
    if found.is_weight and (_SPEC_BEFORE.search(before) or (_SPEC_AFTER.match(after) and not match["half"])):
        return None
    if "起" in after and _MINIMUM.match(text, match.end()):
        return None
    if match["v"] in ("一", "1") and not found.is_weight and _WEIGHED_NEXT.match(text, match.end()):
        return None  # "一箱10斤", "一个十来斤": one pack or piece, then what it weighs
    pack = PACK.match(after)
    if pack and pack["pack"] != found.name:
        return None  # "30个一盒": the size of a pack
    amount = _range(match.groupdict())
    if amount is None or (match["approx"] == "几" and amount[0] < 10):
        return None
    value = amount[0] + (0.5 if match["half"] and amount[0].is_integer() else 0.0)
    if value <= 0 or (value == 1 and found.is_weight and found.name != "吨"):
        return None  # "一斤" names the unit a price is per, never an amount farmers trade
    if value == 1 and match.start() > 0 and text[match.start() - 1] in _UNIT_ENDS:
        return None  # "50斤一袋": a pack size
    return Quantity(match.start(), match.end(), value, found)


def overlaps(start: int, end: int, spans: list[Price]) -> bool:
    """True when text[start:end] overlaps any of the spans."""
    return _overlaps(start, end, spans)


def _overlaps(start: int, end: int, spans: list[Price]) -> bool:
    for span in spans:  # noqa: SIM110 (a loop is cheaper than any(): this runs for every match)
        if start < span.end and span.start < end:
            return True
    return False
