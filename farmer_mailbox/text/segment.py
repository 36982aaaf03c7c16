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
import math
import re
import warnings
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

PRODUCT_FREQ = 200_000
TERM_FREQ = 50_000
SINGLE_CHAR_FREQ = 5_000
# Words of size and time that contain product characters (米径 is no 米, 年生 no 生).
SPEC_WORDS = ("米径", "地径", "胸径", "冠幅", "苗高", "株高", "株距", "行距", "公分", "厘米", "毫米", "年生")


class Token(NamedTuple):
    """A word of the segmented text, with its offsets."""

    word: str
    start: int
    end: int


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
    """Deterministic word segmentation (HMM off) over a private jieba dictionary.

    `tokens` walks jieba's own no-HMM algorithm (a DAG of dictionary words, then the route of
    highest log-probability, ties to the longer word, Latin letters and digits glued into runs)
    over the tokenizer's dictionary, with the log-probabilities cached: the same cut as
    `Tokenizer.cut(text, HMM=False)` (a test holds them equal) at about half the cost.
    """

    def __init__(self, words: Iterable[tuple[str, int]]) -> None:
        tokenizer = _new_tokenizer()
        total = tokenizer.total
        for word, freq in words:
            tokenizer.add_word(word, max(freq, tokenizer.FREQ.get(word, 0)))
        # Keep jieba's normalising total: adding words must not re-price every other path.
        tokenizer.total = total
        self._tokenizer = tokenizer
        self._freq: dict[str, int] = tokenizer.FREQ
        self._log_total = math.log(total)
        # The fragments met so far as a character trie: each node maps the next character to
        # (log-probability or the prefix-only or unknown mark, that fragment's own node). Walking
        # it costs one small lookup per character instead of slicing and hashing every fragment
        # in jieba's 580,000-word dictionary.
        self._trie: dict[str, tuple[float, dict[str, Any]]] = {}
        self._remembered = 0

    def cut(self, text: str) -> Iterator[str]:
        """Words of `text` in order, by jieba itself; together they spell `text` exactly."""
        return iter(self._tokenizer.cut(text, HMM=False))

    def words(self, text: str) -> list[str]:
        """Words of `text` in order (the fast path of `cut`, same result)."""
        return [token.word for token in self.tokens(text)]

    def tokens(self, text: str) -> list[Token]:
        """Words of `text` with their offsets.

        Runs of Han characters, letters and digits are cut by jieba's __cut_DAG_NO_HMM: the best
        route through dictionary words, single Latin letters and digits glued into one word.
        """
        tokens: list[Token] = []
        append = tokens.append
        position = 0
        # split() with one group alternates: text between word runs (even), word runs (odd).
        for i, block in enumerate(_BLOCK.split(text)):
            if not block:
                continue
            if not i & 1:
                for word in _skipped(block):
                    end = position + len(word)
                    append(_new_token(Token, (word, position, end)))  # Token(word, position, end), faster
                    position = end
                continue
            route = self._route(block)
            size = len(block)
            start = x = 0  # the word being read starts at `start`; the route's next step at `x`
            latin = False  # the previous step was a single letter or digit
            while x < size:
                y = route[x]
                single = y - x == 1 and block[x] in _LATIN_OR_DIGIT
                if x and not (single and latin):
                    append(_new_token(Token, (block[start:x], position + start, position + x)))
                    start = x
                latin = single
                x = y
            append(_new_token(Token, (block[start:], position + start, position + size)))
            position += size
        return tokens

    def is_word(self, word: str) -> bool:
        """True when the dictionary knows `word` as a word (not just a prefix)."""
        return bool(self._freq.get(word))

    def freq(self, word: str) -> int:
        """The dictionary frequency of `word` (0 when unknown)."""
        return int(self._freq.get(word) or 0)

    def _route(self, block: str) -> list[int]:
        """End (exclusive) of the best word starting at each position (max total log-probability).

        One pass from the right: each start tries the dictionary words it begins, stopping at the
        first fragment that is not even a prefix of a word; ties go to the longer word.
        """
        trie, log_total = self._trie, self._log_total
        size = len(block)
        score = [0.0] * (size + 1)
        ends = list(range(1, size + 2))  # unknown characters stand alone
        for start in range(size - 1, -1, -1):
            best = _NO_WORD
            node = trie
            end = start
            for char in block[start:]:
                end += 1
                entry = node.get(char)
                if entry is None:
                    entry = self._learn(node, block[start:end])
                value, node = entry
                if value < 0.0:
                    value += score[end]
                    if value >= best:
                        best = value
                        ends[start] = end
                elif value == _UNKNOWN:
                    break
            score[start] = best if best != _NO_WORD else score[start + 1] - log_total
        return ends

    def _learn(self, node: dict[str, Any], fragment: str) -> tuple[float, dict[str, Any]]:
        """The trie entry of a fragment (its last character under its prefix's node), remembered
        while the trie is under its size limit."""
        count = self._freq.get(fragment)
        value = _UNKNOWN if count is None else math.log(count) - self._log_total if count else _PREFIX_ONLY
        entry: tuple[float, dict[str, Any]] = (value, _DEAD_END if value == _UNKNOWN else {})
        if self._remembered < _KNOWN_MAX:
            node[fragment[-1]] = entry
            self._remembered += 1
        return entry


# Log-probabilities are negative: 1.0 marks a word prefix that is no word, 2.0 no prefix either.
_PREFIX_ONLY = 1.0
_UNKNOWN = 2.0
_NO_WORD = -math.inf
_DEAD_END: dict[str, Any] = {}  # below an unknown fragment (never walked: the walk stops there)
_KNOWN_MAX = 100_000  # fragments remembered (words, prefixes and dead ends): about 20 MB at most
_new_token = tuple.__new__
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_SKIP = re.compile(r"(\r\n|\s)")
_LATIN_OR_DIGIT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _skipped(block: str) -> list[str]:
    """Outside word runs jieba keeps whitespace whole and splits everything else per character."""
    if len(block) == 1:  # the usual space or comma
        return [block]
    words: list[str] = []
    for piece in _SKIP.split(block):
        if piece:
            words.extend([piece] if _SKIP.match(piece) else piece)
    return words


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
