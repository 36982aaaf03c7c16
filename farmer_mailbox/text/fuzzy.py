"""Homophone typos of product names (西挂 → 西瓜), read through pinyin as a last resort.

Used only when a message names no product exactly or by synonym. A guess must sound the same
(toneless pinyin, with the initials and finals southern speakers merge: zh/z, ch/c, sh/s, n/l,
f/h, eng/en, ing/in, ang/an), share at least one character in place with the product word, and
not be a common word itself (打算 is not 大蒜). Guesses never cross categories without a reason:
when candidates fall in several categories, the units in the message (株, 头, 台 ...) must
single one out, or there is no guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from farmer_mailbox.text.lexicon import Product, load_lexicon
from farmer_mailbox.text.segment import Segmenter, Token

_MAX_WINDOW = 4
_COMMON_WORD_FREQ = 3000
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
    """Products that homophone typos in the free parts of the text most likely meant."""
    allowed = _allowed_categories(units)
    # Each token's sounds, once (None: not free, or no sounds to hear).
    heard = [_sounds(token.word) if all(free[token.start : token.end]) else None for token in tokens]
    found: list[Guess] = []
    i = 0
    while i < len(tokens):
        hit = _guess_at(tokens, i, heard, segmenter, allowed)
        if hit is None:
            i += 1
            continue
        found.append(hit[0])
        i = hit[1]
    return found


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
