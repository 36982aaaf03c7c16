"""Place mentions: find where a message says it is, and ask the injected resolver what that is.

Three signals, no segmenter changes: names the resolver knows (its `known_names()`, looked up
directly so 45,000 villages cost one set build, not a slower jieba), names of provinces, cities
and counties shipped in `data/places.txt`, and administrative suffixes (杨高村, 横河镇) read off the
segmented text. Adjacent parts join into one mention (慈溪市横河镇杨高村); the most specific wins.

A mention keeps its suffix: 横河村 is a village, never the town 横河(镇) with the 村 dropped. When the
resolver does not know a joined mention whole, its pieces are resolved one by one; if they name
places that do not lie inside one another (杨高村 is not in 横河镇), the mention is returned
ambiguous and unresolved rather than trusting the finest piece alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from farmer_mailbox.text._data import read_text
from farmer_mailbox.text.models import Location, PlaceResolver
from farmer_mailbox.text.segment import Token

_SUFFIX_RANK = {"村": 6, "社区": 6, "组": 7, "屯": 6, "寨": 6, "镇": 5, "乡": 5, "街道": 5,
                "县": 4, "区": 4, "旗": 4, "市": 3, "州": 3, "盟": 3, "省": 2}
# Words that end like a place but name none (市场, 本村, 县城).
_GENERIC = frozenset(
    (
        "市场", "超市", "城市", "农村", "乡村", "乡下", "山区", "地区", "小区", "社区", "郊区", "城区",
        "景区", "园区", "产区", "市区", "街区", "牧区", "灾区", "库区", "矿区", "林区", "本村", "我村",
        "全村", "邻村", "外村", "各村", "本镇", "本县", "本市", "全市", "全县", "全省", "全区", "外省",
        "外市", "外县", "省内", "市内", "县城", "县里", "市里", "镇上", "村里", "乡里", "城里", "菜市",
        "集市", "夜市", "早市", "开发区", "新区", "自治区", "辖区", "片区", "渔村", "附近村", "本组",
        "我组", "本地区", "城乡", "都市", "门市", "上市", "该村", "此村", "各乡", "各镇", "周边县市",
        "省市", "县市", "区县", "乡镇", "村镇", "村组", "省级", "市级", "县级", "镇级", "村级", "西区",
        "东区", "南区", "北区", "随行就市", "就市", "行市", "按市", "应市", "上市了", "新上市",
    )
)
# Characters that end a place name when reading leftwards from its suffix (在杨高村 → 杨高村).
_STOP = frozenset("在住是我你他她的有卖买收到去从往来和与及或要送本全各外附近每这那哪个了")
_STOP |= frozenset("联系电话找位于址:,.;!? \n")
_MAX_LEFT = 4
_SUFFIX_ENDS = frozenset(suffix[-1] for suffix in _SUFFIX_RANK)


class Mention(NamedTuple):
    """A place mention at text[start:end] with its specificity rank (higher is finer)."""

    start: int
    end: int
    text: str
    rank: int


class NameIndex:
    """A set of place names with a two-character prefix filter for fast scanning."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(n for n in (name.strip().lower() for name in names) if len(n) >= 2)
        self.prefixes = frozenset(n[:2] for n in self.names)
        firsts = "".join(sorted({re.escape(n[0]) for n in self.names}))
        # Positions where a name may start, found by the regex engine rather than a Python loop
        # (opening with the class, not a lookahead, lets the engine skip ahead by it).
        self._starts = re.compile(f"[{firsts}](?=.)" if firsts else "(?!)")
        self.longest = max((len(n) for n in self.names), default=0)

    def scan(self, text: str, free: Sequence[bool]) -> list[Mention]:
        """Longest known names in `text` over characters marked free."""
        found: list[Mention] = []
        after = 0  # no overlapping names: skip starts inside the last one found
        for match in self._starts.finditer(text):
            i = match.start()
            if i < after or not free[i] or text[i : i + 2] not in self.prefixes:
                continue
            for size in range(min(self.longest, len(text) - i), 1, -1):
                name = text[i : i + size]
                if name in self.names and all(free[i : i + size]):
                    found.append(Mention(i, i + size, name, _rank(name)))
                    after = i + size
                    break
        return found


@lru_cache(maxsize=1)
def builtin_index() -> NameIndex:
    """Provinces, cities and counties (full and short names) shipped with the package."""
    return NameIndex(read_text("places.txt").split())


_RESOLVER_INDEXES: dict[int, tuple[PlaceResolver, NameIndex]] = {}


def resolver_index(resolver: PlaceResolver) -> NameIndex:
    """The name index of a resolver, built once per resolver object (and kept for 4 of them)."""
    cached = _RESOLVER_INDEXES.get(id(resolver))
    if cached is not None and cached[0] is resolver:
        return cached[1]
    index = NameIndex(resolver.known_names())
    if len(_RESOLVER_INDEXES) >= 4:
        _RESOLVER_INDEXES.pop(next(iter(_RESOLVER_INDEXES)))
    _RESOLVER_INDEXES[id(resolver)] = (resolver, index)
    return index


def _rank(name: str) -> int:
    for suffix in ("社区", "街道"):
        if name.endswith(suffix):
            return _SUFFIX_RANK[suffix]
    return _SUFFIX_RANK.get(name[-1], 1)


def suffix_mentions(text: str, tokens: Sequence[Token], free: Sequence[bool]) -> list[Mention]:
    """Mentions ending in an administrative suffix: a word like 慈溪市, or 杨/高/村 joined."""
    found: list[Mention] = []
    for k, token in enumerate(tokens):
        word = token.word
        if word[-1] not in _SUFFIX_ENDS or word in _GENERIC or not all(free[token.start : token.end]):
            continue
        stem = _stem(word)
        if stem < 0:
            continue  # 知道 ends like 街道 but in no suffix
        start = token.start if stem >= 2 else _left_edge(tokens, k, free, stem)
        if start is not None and token.end - start >= 2 and text[start:token.end] not in _GENERIC:
            found.append(Mention(start, token.end, text[start : token.end], _rank(word)))
    return found


def _stem(word: str) -> int:
    """Characters of name before the suffix a word ends in: 2 in 杨高村, 0 in 村, 1 in 河村
    (which jieba cuts off 横河村, so the name goes on to the left); -1 when it ends in none."""
    for suffix in ("社区", "街道", word[-1]):
        if word.endswith(suffix) and suffix in _SUFFIX_RANK:
            return len(word) - len(suffix)
    return -1


def _left_edge(tokens: Sequence[Token], k: int, free: Sequence[bool], stem: int = 0) -> int | None:
    """Start of the name before a suffix token: up to 4 free characters, stopping at 在/的/....
    `stem` characters of the name are inside the suffix token itself (河 of 河村)."""
    start = tokens[k].start if stem else None
    length = stem
    for token in reversed(tokens[:k]):
        word = token.word
        if (
            not all(free[token.start : token.end])
            or any(ch in _STOP for ch in word)
            or word[-1] in _SUFFIX_ENDS  # 横河镇|杨高村: the town's suffix ends the village's name
            or not all("\u4e00" <= ch <= "\u9fff" for ch in word)
            or length + len(word) > _MAX_LEFT
        ):
            break
        start, length = token.start, length + len(word)
    return start


def best_mention(mentions: list[Mention], text: str) -> Mention | None:
    """Join touching mentions (慈溪市横河镇) and return the most specific, last on ties."""
    if not mentions:
        return None
    mentions = sorted(set(mentions), key=lambda m: (m.start, -m.end))
    joined: list[Mention] = []
    for mention in mentions:
        last = joined[-1] if joined else None
        if last and mention.start < last.end:
            continue
        if last and text[last.end : mention.start].strip() == "":
            joined[-1] = Mention(last.start, mention.end, text[last.start : mention.end].replace(" ", ""),
                                 max(last.rank, mention.rank))
        else:
            joined.append(mention)
    return max(reversed(joined), key=lambda m: m.rank)


def find_mention(
    text: str, tokens: Sequence[Token], free: Sequence[bool], resolver: PlaceResolver | None
) -> Mention | None:
    """The place a message names, if any."""
    mentions = suffix_mentions(text, tokens, free) + builtin_index().scan(text, free)
    if resolver is not None:
        mentions += resolver_index(resolver).scan(text, free)
    return best_mention(mentions, text)


def locate(mention: Mention, resolver: PlaceResolver | None, home_code: str | None) -> Location:
    """Ask the resolver about a mention; an unresolved mention keeps its text only."""
    if resolver is None:
        return Location(text=mention.text)
    resolved = resolver.resolve(mention.text, home_code)
    if resolved is None:
        resolved = _by_parts(mention.text, resolver, home_code)
    if resolved is None:
        return Location(text=mention.text)
    return Location(mention.text, resolved.code, resolved.name, resolved.level, resolved.ambiguous)


_LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}


def _by_parts(text: str, resolver: PlaceResolver, home_code: str | None) -> Location | None:
    """The finest piece of a joined mention the resolver knows, provided every piece it knows
    contains the finer ones; pieces that contradict each other give an ambiguous location."""
    found = [loc for loc in (resolver.resolve(part, home_code) for part in _parts(text)) if loc is not None]
    placed = [loc for loc in found if loc.code]
    if not found:
        return None
    if not placed:
        return found[0]
    finest = placed[0]
    for coarser in placed[1:]:
        digits = _LEVEL_DIGITS.get(coarser.level or "", 0)
        if not digits or coarser.code is None or finest.code is None:
            continue
        if coarser.code[:digits] != finest.code[:digits]:
            return Location(text, None, None, None, ambiguous=True)
    return finest


def _parts(text: str) -> list[str]:
    """Pieces of a joined mention, finest first: 慈溪市横河镇杨高村 → 杨高村, 横河镇, 慈溪市."""
    parts: list[str] = []
    current = ""
    for i, ch in enumerate(text):
        current += ch
        if ch in "省市县区镇乡村组屯寨旗" or text[max(0, i - 1) : i + 1] in ("街道", "社区"):
            if len(current) >= 2:
                parts.append(current)
            current = ""
    return list(reversed(parts))
