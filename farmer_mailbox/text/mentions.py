"""What a segmented message names: products, pests and quality words, with offsets.

Products are whole words of the segmented text (the lexicon is in the segmenter), so 葡萄苗 never
reads as 葡萄 and 鸡蛋果 never as 鸡蛋. A few readings a clerk would make are applied here:
a product that only describes another is dropped (吃玉米长大的土鸡, 大棚黄瓜, 用有机肥种的),
and so is a family word when a member is named too (水果: 苹果 梨 → 苹果, 梨).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from farmer_mailbox.text.lexicon import Lexicon, Pest, Product
from farmer_mailbox.text.segment import Token

_NUMERAL_CHARS = frozenset("0123456789.零〇一二两三四五六七八九十百千万几半")
_FED_BEFORE = re.compile(r"(?:吃|喂|用|施|拌|加|喂的|吃的)$")
_FED_AFTER = re.compile(r"^(?:喂|喂养|饲养|养的|养大|种的|种植的|施的|长大|做的|泡的|酿的|育的)")
_SETTING_CATEGORIES = frozenset({"农资", "农机"})


@dataclass(frozen=True, slots=True)
class ProductMention:
    """A product named at text[start:end] by `word`; `quality` is implied by the word (土鸡蛋)."""

    start: int
    end: int
    product: Product
    word: str
    quality: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A pest or quality word at text[start:end] (`value` is its canonical form)."""

    start: int
    end: int
    value: str
    pest: Pest | None = None


@dataclass(frozen=True, slots=True)
class Mentions:
    """Everything a message names."""

    products: tuple[ProductMention, ...]
    pests: tuple[Span, ...]
    qualities: tuple[Span, ...]


def scan(text: str, tokens: Sequence[Token], lexicon: Lexicon) -> Mentions:
    """Products, pests and quality words among the tokens, with descriptive mentions removed."""
    products: list[ProductMention] = []
    pests: list[Span] = []
    qualities: list[Span] = []
    for token in tokens:
        word = token.word
        product = lexicon.exact(word)
        if product is not None and not _unit_use(text, token):
            quality = _implied(word, product, lexicon)
            products.append(ProductMention(token.start, token.end, product, word, quality))
            continue
        pest = lexicon.pest(word)
        if pest is not None:
            pests.append(Span(token.start, token.end, pest.name, pest))
            continue
        entry = lexicon.quality(word)
        if entry is not None and entry.standalone:
            qualities.append(Span(token.start, token.end, entry.canonical))
    return Mentions(tuple(_clerk_reading(text, products, lexicon)), tuple(pests), tuple(qualities))


def _unit_use(text: str, token: Token) -> bool:
    """A one-character product right after a number is a unit or classifier (2米高, 3斤)."""
    return len(token.word) == 1 and token.start > 0 and text[token.start - 1] in _NUMERAL_CHARS


def _implied(word: str, product: Product, lexicon: Lexicon) -> str | None:
    """The quality a synonym carries in front of the product (土鸡蛋 → 土, 野生甲鱼 → 野生)."""
    if word == product.name:
        return None
    for size in (3, 2, 1):
        quality = lexicon.quality(word[:size]) if len(word) > size else None
        if quality is not None and not product.name.startswith(word[:size]):
            return quality.canonical
    return None


def _clerk_reading(text: str, products: list[ProductMention], lexicon: Lexicon) -> list[ProductMention]:
    """Drop products that only describe others, and family words whose members are named."""
    if len(products) < 2:
        return products
    kept = [m for m in products if not _describes(text, m)] or products
    kept = [m for i, m in enumerate(kept) if not _is_setting(m, kept[i + 1] if i + 1 < len(kept) else None)]
    named = {m.product.name for m in kept}
    ancestors = {a for name in named for a in lexicon.ancestors(name)}
    return [m for m in kept if m.product.name not in ancestors] or kept


def _describes(text: str, mention: ProductMention) -> bool:
    before = text[max(0, mention.start - 2) : mention.start]
    return bool(_FED_BEFORE.search(before) or _FED_AFTER.match(text[mention.end : mention.end + 3]))


def _is_setting(mention: ProductMention, following: ProductMention | None) -> bool:
    """大棚黄瓜, 化肥玉米: a supply or machine word glued to a crop describes how it was grown."""
    return (
        following is not None
        and following.start == mention.end
        and mention.product.category in _SETTING_CATEGORIES
        and following.product.category not in _SETTING_CATEGORIES
    )
