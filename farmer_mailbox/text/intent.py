"""Who sells and who buys: trade and question cues, and the side each product is on.

Cues come from `data/cues.csv` (phrase, side sell|buy|query, strength 1 weak / 2 strong). They
are matched on whole words of the segmented text, so 丰收 and 收割机 never read as 收, and
phrases win over their parts (哪里有卖 = looking to buy; 哪里收 = looking to sell).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from farmer_mailbox.text._data import read_rows
from farmer_mailbox.text.models import Intent, Side
from farmer_mailbox.text.segment import Token

_MAX_JOIN = 4
# "需要鸡苗的联系我": whoever wants it should call: the writer sells. Beats the 需要 inside it.
_WANTED_CALL = re.compile(
    r"(?:有)?(?:需要|要|想要|想买)[^,。;!?\n]{0,12}?的(?:朋友|老板|客户|话)?[,\s]*(?:请|可|速|就|可以)?"
    r"(?:联系|来电|打电话|电话|致电|加微信|微信|call)"
)
# Cues that name a product of their own: 招工 wants 工人, 找活 offers labour.
_HIRING = ("招工", "招人", "雇人", "请人", "找人", "招聘")
_JOB_SEEKING = ("找活", "找活干", "找工作", "打零工", "打工", "求职", "务工")
LABOUR_CUES = frozenset(_HIRING + _JOB_SEEKING)
# Weak question cues that still make a question on their own (吗 and ? alone do not: 在吗).
_QUESTION_WORDS = frozenset(("怎么", "如何", "怎样", "咋", "请问", "咨询", "请教", "能不能", "可不可以"))


class Cue(NamedTuple):
    """A cue word at text[start:end]: side sell/buy/query, strength 1 (weak) to 3."""

    start: int
    end: int
    side: str
    strength: int
    word: str = ""


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, int]]:
    return {row["phrase"]: (row["side"], int(row["strength"])) for row in read_rows("cues.csv")}


def cue_phrases() -> tuple[str, ...]:
    """Every cue phrase, for the segmenter."""
    return tuple(_table())


def find_cues(text: str, tokens: Sequence[Token], blocked: frozenset[int]) -> list[Cue]:
    """Cues in order; tokens starting at a `blocked` offset (products, numbers) are skipped."""
    table, prefixes = _table(), _prefixes()
    cues: list[Cue] = []
    after = 0  # tokens before this one are inside the last cue found
    for i, token in enumerate(tokens):
        if i < after or token.word not in prefixes or token.start in blocked:
            continue
        hit = _longest(tokens, i, prefixes, table)
        if hit is None:
            continue
        after, phrase = hit
        side, strength = table[phrase]
        cues.append(Cue(token.start, tokens[after - 1].end, side, strength, phrase))
    return _have_you_got(_with_wanted_call(text, cues))


@lru_cache(maxsize=1)
def _prefixes() -> frozenset[str]:
    """Every prefix of every cue phrase, to stop joining tokens early."""
    return frozenset(phrase[:i] for phrase in _table() for i in range(1, len(phrase) + 1))


def _longest(
    tokens: Sequence[Token], i: int, prefixes: frozenset[str], table: dict[str, tuple[str, int]]
) -> tuple[int, str] | None:
    """The longest cue phrase made of whole tokens starting at token i."""
    phrase = ""
    best = None
    for j in range(i, min(len(tokens), i + _MAX_JOIN)):
        phrase += tokens[j].word
        if phrase not in prefixes:
            break
        if phrase in table:
            best = (j + 1, phrase)
    return best


def _with_wanted_call(text: str, cues: list[Cue]) -> list[Cue]:
    """Add the strong sell cue of "要X的联系我", dropping the buy cues it explains."""
    if "要" not in text:
        return cues
    for match in _WANTED_CALL.finditer(text):
        end = match.start() + 3
        cues = [c for c in cues if not (match.start() <= c.start < end and c.side == "buy")]
        cues.append(Cue(match.start(), end, "sell", 3, match[0]))
    return sorted(cues, key=lambda c: c.start)


def _have_you_got(cues: list[Cue]) -> list[Cue]:
    """"有鸡苗吗": a 有 asked as a question is someone looking to buy."""
    for cue in cues:
        if cue.side == "query" and cue.word in ("吗", "?", "么", "没"):
            break
    else:
        return cues
    return [Cue(c.start, c.end, "buy", 1, c.word) if c.word == "有" else c for c in cues]


def side_for(position: int, window: tuple[int, int], cues: Sequence[Cue]) -> Side | None:
    """The side of a product mentioned at `position`, whose clause spans `window`.

    Cues inside the product's window (up to the next product) beat cues outside; then stronger
    beats weaker; then a cue before the product beats one after; then nearer beats farther.
    A cue after the window counts only when nothing else does ("玉米 小麦 出售").
    """
    best: tuple[int, int, int, int] | None = None
    side: Side | None = None
    for cue in cues:
        if cue.side not in ("sell", "buy"):
            continue
        before = cue.start < position
        inside = window[0] <= cue.start < window[1]
        if not inside and not before and best is not None:
            continue
        key = (int(inside), cue.strength, int(before), -abs(cue.start - position))
        if best is None or key > best:
            best, side = key, "sell" if cue.side == "sell" else "buy"
    return side


def first_trade_side(cues: Sequence[Cue], strength: int = 1) -> Side | None:
    """Side of the first trade cue at least this strong."""
    for cue in cues:
        if cue.side in ("sell", "buy") and cue.strength >= strength:
            return "sell" if cue.side == "sell" else "buy"
    return None


def decide_intent(
    cues: Sequence[Cue], *, products: bool, amounts: bool, pest: bool, sides: Sequence[Side]
) -> Intent:
    """The message's intent from its cues and what else it holds."""
    trade_strong = trade_weak = asks = asks_a_little = False
    for cue in cues:
        if cue.side == "query":
            asks = asks or cue.strength >= 2
            asks_a_little = asks_a_little or cue.word in _QUESTION_WORDS
        else:
            trade_strong = trade_strong or cue.strength >= 2
            trade_weak = True
    asks = asks or pest
    if trade_strong or (amounts and products and not asks):
        return _trade(cues, sides)
    if asks:
        return "query"
    if products:
        return _trade(cues, sides) if trade_weak else "query"
    return "query" if asks_a_little else "other"


def _trade(cues: Sequence[Cue], sides: Sequence[Side]) -> Intent:
    if sides:
        return sides[0]
    return first_trade_side(cues, 2) or first_trade_side(cues) or "sell"
