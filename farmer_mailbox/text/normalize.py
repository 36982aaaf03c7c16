"""Normalisation of raw phone text before any reading: one canonical spelling for everything.

Traditional characters become simplified (OpenCC t2s), full-width digits, letters and punctuation
become ASCII (NFKC), Latin letters are lower-cased, emoji and other pictographs become spaces, and
runs of whitespace collapse. Separator punctuation is kept: it marks clause boundaries.

Feature phones make some farmers type one character at a time with a space after each
(卖 西 红 柿 1000 斤, T D): a run of two or more single Han characters each standing alone
between spaces is joined back into one word, and so is a run of single Latin letters that spells
a command code (T D, C X 3). A word of two or more characters is never glued to its neighbours
(卖 鸡蛋 300斤 stays as written).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Protocol


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


# Pictographs, dingbats, variation selectors, zero-width joiners, keycaps and private use, and
# control characters: one character class, so the regex engine skips ahead by class.
_NOISE_RE = re.compile(
    "["
    "\U0001f000-\U0001faff"
    "\U0001fb00-\U0001fbff"
    "\u2190-\u21ff"
    "\u2300-\u23ff"
    "\u2460-\u24ff"
    "\u25a0-\u27bf"
    "\u2900-\u297f"
    "\u2b00-\u2bff"
    "\u3297\u3299"
    "\ufe0e\ufe0f\u200b-\u200f\u2060\u20e3"
    "\ue000-\uf8ff"
    r"\x00-\x08\x0b-\x1f\x7f-\x9f"
    "]+"
)
_SPACE_RE = re.compile(r"[ \t\r\f\v\u3000\xa0]+")
_ODD_SPACE = re.compile(r"[\t\r\f\v\u3000\xa0]")  # with a double space: what _SPACE_RE changes
_NEWLINES_RE = re.compile(r"\s*\n\s*")
# Two or more single characters, each standing alone, separated by single spaces (after the
# whitespace is collapsed): one run of Han characters, or one of Latin letters.
# (A Han run may touch digits or letters after it, 西 红 柿1000斤, but not digits before it:
# the 斤 of "300斤 杨 高 村" stays with its number.)
_SPACED_HAN = re.compile(r"(?<![\u4e00-\u9fff\d])[\u4e00-\u9fff](?: [\u4e00-\u9fff](?![\u4e00-\u9fff]))+")
_SPACED_LATIN = re.compile(r"(?<!\w)[a-z](?: [a-z](?!\w))+")
_SPACED_MAGNITUDE = re.compile(r"(?<=\d) ([十百千万亿])")
_SPACED_HINT = re.compile(
    r"(?:(?<![\u4e00-\u9fff\d])[\u4e00-\u9fff] [\u4e00-\u9fff](?![\u4e00-\u9fff])|(?<!\w)[a-z] [a-z](?!\w))"
)
# Punctuation that NFKC leaves alone but that means the same to a reader.
_PUNCT_MAP = str.maketrans(
    {
        "、": ",",
        "【": "[",
        "】": "]",
        "《": "<",
        "》": ">",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "—": "-",
        "–": "-",
        "―": "-",
        "〜": "~",
        "～": "~",
        "﹣": "-",
        "¥": "¥",
        "…": "。",
    }
)
# Any character _PUNCT_MAP changes (str.translate looks every character up, so test first).
_PUNCT_RE = re.compile("[" + "".join(re.escape(chr(code)) for code in _PUNCT_MAP) + "]")


@lru_cache(maxsize=1)
def _converter() -> _Converter:
    """OpenCC traditional-to-simplified converter, created once."""
    import opencc

    converter: _Converter = opencc.OpenCC("t2s")
    return converter


@lru_cache(maxsize=1)
def _traditional() -> re.Pattern[str]:
    """A pattern finding any character OpenCC t2s changes, found once by asking it (about 50 ms,
    on first use). A character class is a cheaper test than a set on Chinese text."""
    converter = _converter()
    chars = (chr(code) for code in (*range(0x3400, 0xA000), *range(0xF900, 0xFB00)))
    return re.compile("[" + "".join(re.escape(ch) for ch in chars if converter.convert(ch) != ch) + "]")


def to_simplified(text: str) -> str:
    """Convert traditional Chinese to simplified; text without a traditional character is
    returned unchanged (t2s is the identity there, and most messages are simplified already)."""
    if text.isascii() or _traditional().search(text) is None:
        return text
    return _converter().convert(text)


def normalize(text: str) -> str:
    """Return the canonical form of a raw message that every later step reads."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _NOISE_RE.sub(" ", text)
    text = to_simplified(text)
    if _PUNCT_RE.search(text) is not None:
        text = text.translate(_PUNCT_MAP)
    text = text.lower()
    if "\n" in text:
        text = _NEWLINES_RE.sub("\n", text)
    if "  " in text or _ODD_SPACE.search(text) is not None:
        text = _SPACE_RE.sub(" ", text)
    text = text.strip()
    if " " in text and _SPACED_HINT.search(text) is not None:
        text = join_spaced(text)
    return text


# The Latin command codes (commands.py): spelled out letter by letter they are joined.
LATIN_CODES = frozenset(("td", "bz", "dy", "wd", "cx", "lx", "tq", "jg", "zc", "hf", "bd", "xq"))


def join_spaced(text: str) -> str:
    """Join runs of single characters typed with a space after each (卖 西 红 柿 → 卖西红柿)."""
    text = _SPACED_HAN.sub(lambda m: m[0].replace(" ", ""), text)
    text = _SPACED_MAGNITUDE.sub(r"\1", text)  # 3 万株 → 3万株
    return _SPACED_LATIN.sub(_join_code, text)


def _join_code(match: re.Match[str]) -> str:
    """Letters joined in pairs that spell a code, left to right ("t d a" → "td a")."""
    letters = match[0].split(" ")
    words: list[str] = []
    i = 0
    while i < len(letters):
        pair = "".join(letters[i : i + 2])
        if pair in LATIN_CODES:
            words.append(pair)
            i += 2
        else:
            words.append(letters[i])
            i += 1
    return " ".join(words)
