"""Typos of product names, read as a last resort: homophones (西挂 → 西瓜), look-alike
characters (鸡苖 → 鸡苗, 板粟 → 板栗) and names typed in pinyin (hongshu → 红薯).

Used only when a message names no product exactly or by synonym (and, by `respell`, for a
one-character product glued to a stray character: 葡桃 is no 桃). A homophone guess must sound
the same (toneless pinyin, with the initials and finals southern speakers merge: zh/z, ch/c,
sh/s, n/l, f/h, eng/en, ing/in, ang/an), share at least one character in place with the product
word, and not be a common word itself (打算 is not 大蒜). A look-alike guess must spell a product
exactly once its look-alike characters are put right. Pinyin typed in Latin letters must be a
product's full reading (hongshu), not a syllable of it. Guesses never cross categories without a
reason: when candidates fall in several categories, the units in the message (株, 头, 台 ...)
must single one out, or there is no guess; `respell` keeps the category of the word it corrects.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from farmer_mailbox.text.lexicon import Product, load_lexicon
from farmer_mailbox.text.segment import Segmenter, Token

_MAX_WINDOW = 4
_COMMON_WORD_FREQ = 3000
_RARE_CHAR_FREQ = 1000  # a single character this rare is seldom a word on its own (葡, 苖)
_MIN_PINYIN_WORD = 4  # letters: "yumi", "dami"; shorter Latin is too often something else
# Characters mistaken for a look-alike in product names (typed by shape on handwriting input).
LOOKALIKES = str.maketrans({
    "苖": "苗", "粟": "栗", "梁": "粱", "莱": "菜", "箩": "萝", "菓": "果", "蕃": "番", "茹": "菇",
    "菰": "菇", "荀": "笋", "爪": "瓜", "束": "枣", "茵": "菌", "午": "牛", "挑": "桃", "苺": "莓",
})
_LOOKALIKE_CHARS = frozenset(chr(code) for code in LOOKALIKES)
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"))
_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))
# Units that say what kind of thing is sold (weights say nothing: grain, fruit and fish all weigh).
UNIT_CATEGORIES = {
    "株": ("苗木种子",), "棵": ("苗木种子",), "头": ("畜禽",), "匹": ("畜禽",), "羽": ("畜禽",),
    "只": ("畜禽", "水产"), "尾": ("水产",), "台": ("农机",), "辆": ("农机",), "人": ("劳务",),
    "名": ("劳务",), "位": ("劳务",), "亩": ("苗木种子", "劳务", "其他", "粮油", "蔬菜", "水果"),
}


class Guess(NamedTuple):
    """A product guessed for text[start:end]."""

    start: int
    end: int
    product: Product


@lru_cache(maxsize=8192)
def _syllable(char: str) -> str:
    """Toneless pinyin of one character with dialect-merged sounds folded together."""
    from pypinyin import lazy_pinyin

    sound = lazy_pinyin(char)[0]
    return _fold(sound)


def _key(word: str) -> tuple[str, ...] | None:
    if not all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return None
    return tuple(_syllable(ch) for ch in word)


def _fold(sound: str) -> str:
    """Fold a Latin pinyin syllable the way `_syllable` folds a character's reading."""
    for long, short in _INITIALS:
        if sound.startswith(long):
            sound = short + sound[len(long) :]
            break
    for long, short in _FINALS:
        if sound.endswith(long):
            return sound[: -len(long)] + short
    return sound


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, ...], tuple[tuple[str, Product], ...]]:
    """Product surface forms of 2-4 characters by their folded pinyin."""
    index: dict[tuple[str, ...], list[tuple[str, Product]]] = {}
    for word, product in load_lexicon().surfaces():
        key = _key(word) if 2 <= len(word) <= _MAX_WINDOW else None
        if key is not None:
            index.setdefault(key, []).append((word, product))
    return {key: tuple(items) for key, items in index.items()}


@lru_cache(maxsize=1)
def _known_sounds() -> frozenset[str]:
    """Every syllable in the product index: Latin text must be one of these to count as pinyin."""
    return frozenset(sound for key in _index() for sound in key)


@lru_cache(maxsize=1)
def _key_starts() -> frozenset[tuple[str, ...]]:
    """Every leading part of every key in the product index: a window that sounds like none of
    them cannot grow into a product."""
    return frozenset(key[:size] for key in _index() for size in range(1, len(key) + 1))


def _sounds(word: str) -> list[tuple[str, str | None]] | None:
    """(syllable, character) pairs of a token; a pinyin-typed token has no character."""
    if word.isascii() and word.isalpha():
        sound = _fold(word.lower())
        return [(sound, None)] if sound in _known_sounds() else None
    key = _key(word)
    return None if key is None else list(zip(key, word, strict=True))


def guess(
    tokens: Sequence[Token], free: Sequence[bool], segmenter: Segmenter, units: Sequence[str]
) -> list[Guess]:
    """Products that typos in the free parts of the text most likely meant."""
    allowed = _allowed_categories(units)
    usable = [all(free[token.start : token.end]) for token in tokens]
    # Each token's sounds, once (None: not free, or no sounds to hear).
    heard = [_sounds(token.word) if ok else None for token, ok in zip(tokens, usable, strict=True)]
    lookalikes = any(_LOOKALIKE_CHARS.intersection(token.word) for token in tokens)
    latin = any(token.word.isascii() and len(token.word) >= _MIN_PINYIN_WORD for token in tokens)
    found: list[Guess] = []
    i = 0
    while i < len(tokens):
        hit = _lookalike_at(tokens, i, usable) if lookalikes else None
        hit = hit or (_pinyin_word_at(tokens, i, usable, allowed) if latin else None)
        hit = hit or _guess_at(tokens, i, heard, segmenter, allowed)
        if hit is None:
            i += 1
            continue
        found.append(hit[0])
        i = hit[1]
    return found


def respell(tokens: Sequence[Token], k: int, usable: Sequence[bool], product: Product) -> Guess | None:
    """A longer product of the same category that a one-character product token k and a stray
    rare character beside it spell together (葡桃 → 葡萄, 鸡苖 → 鸡苗), if any."""
    for i in (k - 1, k):
        if i < 0 or i + 1 >= len(tokens):
            continue
        pair = (tokens[i], tokens[i + 1])
        if not all(usable[j] or j == k for j in (i, i + 1)):
            continue
        word = pair[0].word + pair[1].word
        if len(word) != 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
            continue
        lexicon = load_lexicon()
        found = lexicon.exact(word.translate(LOOKALIKES)) if _LOOKALIKE_CHARS.intersection(word) else None
        if found is None:
            key = _key(word)
            found = _pick(list(word), _index().get(key) if key else None, frozenset((product.category,)))
        if found is not None and found.category == product.category and found is not product:
            return Guess(pair[0].start, pair[1].end, found)
    return None


def rare_char(segmenter: Segmenter, word: str) -> bool:
    """A single Han character seldom written as a word on its own (葡, 苖): likely half a typo."""
    return len(word) == 1 and "\u4e00" <= word <= "\u9fff" and segmenter.freq(word) < _RARE_CHAR_FREQ


def _lookalike_at(tokens: Sequence[Token], i: int, usable: Sequence[bool]) -> tuple[Guess, int] | None:
    """The longest window of free tokens from token i that spells a product once its
    look-alike characters are put right (板粟 → 板栗)."""
    lexicon = load_lexicon()
    word = ""
    best: tuple[Guess, int] | None = None
    for j in range(i, len(tokens)):
        if not usable[j]:
            break
        word += tokens[j].word
        if len(word) > _MAX_WINDOW:
            break
        if len(word) < 2 or not _LOOKALIKE_CHARS.intersection(word):
            continue
        found = lexicon.exact(word.translate(LOOKALIKES))
        if found is not None:
            best = (Guess(tokens[i].start, tokens[j].end, found), j + 1)
    return best


@lru_cache(maxsize=1)
def _pinyin_words() -> dict[str, Product]:
    """Products by the full toneless pinyin of a surface form (hongshu → 红薯), when that
    reading names one product only."""
    from pypinyin import lazy_pinyin

    found: dict[str, set[str]] = {}
    for word, product in load_lexicon().surfaces():
        if len(word) >= 2 and _key(word) is not None:
            found.setdefault("".join(lazy_pinyin(word)), set()).add(product.name)
    lexicon = load_lexicon()
    return {
        reading: lexicon.product(next(iter(names)))
        for reading, names in found.items()
        if len(names) == 1 and len(reading) >= _MIN_PINYIN_WORD
    }


def _pinyin_word_at(
    tokens: Sequence[Token], i: int, usable: Sequence[bool], allowed: frozenset[str] | None
) -> tuple[Guess, int] | None:
    """A Latin token that is a product's full pinyin (出售 hongshu 500斤)."""
    token = tokens[i]
    word = token.word
    if not usable[i] or len(word) < _MIN_PINYIN_WORD or not (word.isascii() and word.isalpha()):
        return None
    product = _pinyin_words().get(word.lower())
    if product is None or (allowed is not None and product.category not in allowed):
        return None
    return Guess(token.start, token.end, product), i + 1


def _allowed_categories(units: Sequence[str]) -> frozenset[str] | None:
    allowed: set[str] | None = None
    for unit in units:
        if unit in UNIT_CATEGORIES:
            cats = set(UNIT_CATEGORIES[unit])
            allowed = cats if allowed is None else allowed & cats
    return None if allowed is None else frozenset(allowed)


def _guess_at(
    tokens: Sequence[Token],
    i: int,
    sounds_of: Sequence[list[tuple[str, str | None]] | None],
    segmenter: Segmenter,
    allowed: frozenset[str] | None,
) -> tuple[Guess, int] | None:
    """The longest window of whole tokens starting at token i that sounds like a product."""
    heard: list[tuple[str, str | None]] = []
    best: tuple[Guess, int] | None = None
    starts = _key_starts()
    for j in range(i, len(tokens)):
        token = tokens[j]
        sounds = sounds_of[j]
        if sounds is None:
            break
        heard += sounds
        if len(heard) > _MAX_WINDOW:
            break
        key = tuple(sound for sound, _ in heard)
        if key not in starts:
            break  # no product sounds like this so far: a longer window cannot either
        if len(heard) < 2 or (j == i and _common(segmenter, token.word)):
            continue
        product = _pick([char for _, char in heard], _index().get(key), allowed)
        if product is not None:
            best = (Guess(tokens[i].start, token.end, product), j + 1)
    return best


def _common(segmenter: Segmenter, word: str) -> bool:
    return segmenter.is_word(word) and segmenter.freq(word) >= _COMMON_WORD_FREQ


def _pick(
    chars: list[str | None],
    candidates: tuple[tuple[str, Product], ...] | None,
    allowed: frozenset[str] | None,
) -> Product | None:
    """One product for a window, or None when the sound is ambiguous across categories."""
    if not candidates:
        return None
    scored = [(sum(a == b for a, b in zip(chars, surface, strict=True)), p) for surface, p in candidates]
    scored = [(score, p) for score, p in scored if score >= 1 and (allowed is None or p.category in allowed)]
    if not scored or len({p.category for _, p in scored}) > 1:
        return None
    best = max(score for score, _ in scored)
    products = {p.name: p for score, p in scored if score == best}
    return next(iter(products.values())) if len(products) == 1 else None
