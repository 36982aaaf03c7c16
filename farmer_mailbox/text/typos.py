"""Typos around the words read: what a typo may have swallowed, and one-character products that
are half of one.

- 卖花升300斤: jieba reads 卖花 as one (rare) word, hiding both the cue 卖 and the typo 花升 (花生);
  such a word is split into its cue and the rest before guessing.
- 卖小卖5吨: a one-character cue after the first cue may be part of a typo (小卖 = 小麦); the
  guesses may use it, and a cue a guess swallowed is no cue.
- 卖葡桃300斤, 卖鸡苖1000只: a one-character product (桃, 鸡) glued to a stray rare character is
  read as the longer product of the same category they spell together (`fuzzy.respell`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from farmer_mailbox.text import fuzzy
from farmer_mailbox.text.intent import Cue
from farmer_mailbox.text.mentions import ProductMention
from farmer_mailbox.text.segment import Segmenter, Token

_CUE_CHARS = frozenset("卖收买售购")
_RARE_WORD_FREQ = 100


def cue_split(tokens: list[Token], segmenter: Segmenter) -> list[Token]:
    """"卖花升300斤": a rare word opening with a one-character trade cue (卖花) is read as the
    cue and the rest, so the rest can be a typo of a product (花升 → 花生)."""
    if not any(t.word[0] in _CUE_CHARS and len(t.word) > 1 for t in tokens):
        return tokens
    split: list[Token] = []
    for token in tokens:
        word = token.word
        if word[0] in _CUE_CHARS and len(word) > 1 and segmenter.freq(word) < _RARE_WORD_FREQ:
            split += [Token(word[0], token.start, token.start + 1), Token(word[1:], token.start + 1, token.end)]
        else:
            split.append(token)
    return split


def typo_cues(cues: list[Cue]) -> list[Cue]:
    """The cues a typo cannot have swallowed: all but one-character cues after the first cue."""
    return [c for i, c in enumerate(cues) if i == 0 or c.end - c.start > 1]


def respelled(
    text: str,
    tokens: Sequence[Token],
    products: tuple[ProductMention, ...],
    segmenter: Segmenter,
    free_of: Callable[[], list[bool]],
) -> tuple[ProductMention, ...]:
    """The products named, with a one-character product glued to a stray rare character read as
    the longer product they spell together (葡桃 → 葡萄, 鸡苖 → 鸡苗)."""
    suspects = []
    for i, mention in enumerate(products):
        if mention.end - mention.start != 1:
            continue  # the common case: no one-character product, nothing to look at
        k = next((k for k, token in enumerate(tokens) if token.start == mention.start), None)
        if k is not None and any(
            0 <= j < len(tokens) and fuzzy.rare_char(segmenter, tokens[j].word) for j in (k - 1, k + 1)
        ):
            suspects.append((i, k))
    if not suspects:
        return products
    free = free_of()
    usable = [all(free[t.start : t.end]) for t in tokens]
    respelled = list(products)
    for i, k in suspects:
        better = fuzzy.respell(tokens, k, usable, products[i].product)
        if better is not None:
            respelled[i] = ProductMention(better.start, better.end, better.product, text[better.start : better.end])
    return tuple(respelled)
