"""Word segmentation: a private jieba tokenizer taught the agricultural lexicon.

The global `jieba` object is never touched (other code may use it). Our tokenizer loads jieba's
default dictionary (jieba keeps a `jieba.cache` file in the temp directory; a stale or unwritable
cache only costs time), then adds products, pests, quality words and intent cues as user words.
HMM is off, always: the HMM guesses new words, which glues product names to their neighbours and
makes results depend on the HMM's whims; everything we need to recognise is in the dictionary.

Place names are *not* added here: tens of thousands of village names would slow the first parse
and over-segment ordinary text; `places.py` finds them by direct lookup instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PRODUCT_FREQ = 200_000
TERM_FREQ = 50_000
SINGLE_CHAR_FREQ = 5_000
# Words of size and time that contain product characters (米径 is no 米, 年生 no 生).
SPEC_WORDS = ("米径", "地径", "胸径", "冠幅", "苗高", "株高", "株距", "行距", "公分", "厘米", "毫米", "年生")


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the segmented text, with its offset."""

    word: str
    start: int

    @property
    def end(self) -> int:
        """Offset just past the word."""
        return self.start + len(self.word)


def _new_tokenizer() -> Any:
    """A fresh, initialised jieba.Tokenizer, created without log noise or stray warnings."""
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which newer setuptools flags as deprecated.
        warnings.simplefilter("ignore")
        import jieba
    logger = logging.getLogger("jieba")
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


class Segmenter:
    """Deterministic word segmentation (HMM off) over a private jieba dictionary."""

    def __init__(self, words: Iterable[tuple[str, int]]) -> None:
        tokenizer = _new_tokenizer()
        total = tokenizer.total
        for word, freq in words:
            tokenizer.add_word(word, max(freq, tokenizer.FREQ.get(word, 0)))
        # Keep jieba's normalising total: adding words must not re-price every other path.
        tokenizer.total = total
        self._tokenizer = tokenizer

    def cut(self, text: str) -> Iterator[str]:
        """Words of `text` in order; together they spell `text` exactly."""
        return iter(self._tokenizer.cut(text, HMM=False))

    def tokens(self, text: str) -> list[Token]:
        """Words of `text` with their offsets."""
        tokens: list[Token] = []
        position = 0
        for word in self._tokenizer.cut(text, HMM=False):
            tokens.append(Token(word, position))
            position += len(word)
        return tokens

    def is_word(self, word: str) -> bool:
        """True when the dictionary knows `word` as a word (not just a prefix)."""
        return bool(self._tokenizer.FREQ.get(word))

    def freq(self, word: str) -> int:
        """The dictionary frequency of `word` (0 when unknown)."""
        return int(self._tokenizer.FREQ.get(word) or 0)


def vocabulary() -> list[tuple[str, int]]:
    """User words for the segmenter: lexicon, pests, quality words, units and intent cues."""
    from farmer_mailbox.text.commands import command_words
    from farmer_mailbox.text.intent import cue_phrases
    from farmer_mailbox.text.lexicon import load_lexicon
    from farmer_mailbox.text.numbers import unit_words

    lexicon = load_lexicon()
    words = [(w, PRODUCT_FREQ if len(w) > 1 else SINGLE_CHAR_FREQ) for w, _ in lexicon.surfaces()]
    words += [(w, PRODUCT_FREQ) for w in lexicon.pest_surfaces()]
    terms = [q.word for q in lexicon.qualities()] + list(cue_phrases()) + list(command_words())
    terms += [w for w in unit_words() if not w.isascii()] + list(SPEC_WORDS)
    words += [(w, TERM_FREQ) for w in terms if len(w) > 1]
    return words


@lru_cache(maxsize=1)
def default_segmenter() -> Segmenter:
    """The shared segmenter, built on first use (about a second: jieba's dictionary load)."""
    return Segmenter(vocabulary())
