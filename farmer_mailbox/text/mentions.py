"""What a segmented message names: products, pests and quality words, with offsets.

Products are whole words of the segmented text (the lexicon is in the segmenter), so 葡萄苗 never
reads as 葡萄 and 鸡蛋果 never as 鸡蛋. A few readings a clerk would make are applied by `clerk_reading`:
a product that only describes another is dropped (吃玉米长大的土鸡, 大棚黄瓜, 用有机肥种的),
and so is a family word when a member is named too (水果: 苹果 梨 → 苹果, 梨).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from farmer_mailbox.text.intent import LABOUR_CUES, Cue
from farmer_mailbox.text.lexicon import Lexicon, Pest, Product
from farmer_mailbox.text.numbers import Quantity
from farmer_mailbox.text.segment import Token

_NUMERAL_CHARS = frozenset("0123456789.零〇一二两三四五六七八九十百千万几半")
_FED_BEFORE = re.compile(r"(?:吃|喂|用|施|拌|加|喂的|吃的|做|酿|会开|会用|会修|开|驾驶|操作)$")
_FED_AFTER = re.compile(r"^(?:喂|喂养|饲养|养的|养大|种的|种植的|施的|长大|做的|泡的|酿的|育的)")
_SETTING_CATEGORIES = frozenset({"农资", "农机"})
_TARGET_CATEGORIES = frozenset({"畜禽", "水产", "粮油", "蔬菜", "水果", "苗木种子"})
_PREMISES = frozenset({"土地", "鱼塘", "养殖场", "仓库", "大棚"})
_LETTING = re.compile(r"出租|转让|出让|承包|流转|租|转包")
_LABOUR_COMPANIONS = frozenset({"劳务", "农资", "其他"})
_SEEDLING_WORDS = frozenset(("苗", "秧", "苗子", "秧苗", "种苗", "树苗", "幼苗", "小苗", "秧子"))
_SEEDLING_FAMILY = {"蔬菜": "蔬菜苗", "水果": "果苗"}  # else 苗木
_ANIMAL_CATEGORIES = frozenset({"畜禽", "水产"})


class ProductMention(NamedTuple):
    """A product named at text[start:end] by `word`; `quality` is implied by the word (土鸡蛋)."""

    start: int
    end: int
    product: Product
    word: str
    quality: str | None = None


class Span(NamedTuple):
    """A pest or quality word at text[start:end] (`value` is its canonical form)."""

    start: int
    end: int
    value: str
    pest: Pest | None = None


class Mentions(NamedTuple):
    """Everything a message names."""

    products: tuple[ProductMention, ...]
    pests: tuple[Span, ...]
    qualities: tuple[Span, ...]


def scan(text: str, tokens: Sequence[Token], lexicon: Lexicon) -> Mentions:
    """Products, pests and quality words among the tokens, with descriptive mentions removed."""
    products: list[ProductMention] = []
    pests: list[Span] = []
    qualities: list[Span] = []
    entries = lexicon.entries()
    for token in tokens:
        word = token.word
        entry = entries.get(word)
        if entry is None:
            continue
        if isinstance(entry, Product):
            if len(word) > 1 or not _unit_use(text, token):
                quality = None if word == entry.name else _implied(word, entry, lexicon)
                products.append(ProductMention(token.start, token.end, entry, word, quality))
        elif isinstance(entry, Pest):
            pests.append(Span(token.start, token.end, entry.name, entry))
        elif entry.standalone:
            qualities.append(Span(token.start, token.end, entry.canonical))
    if not products:
        products = _crops_in_pest_names(text, pests, lexicon)
    return Mentions(tuple(products), tuple(pests), tuple(qualities))


def _crops_in_pest_names(text: str, pests: list[Span], lexicon: Lexicon) -> list[ProductMention]:
    """柑橘黄龙病, 西瓜枯萎病, 鸡瘟: the crop a pest's own name starts with."""
    found: list[ProductMention] = []
    for span in pests:
        word = text[span.start : span.end]
        for size in range(len(word) - 1, 0, -1):
            product = lexicon.exact(word[:size])
            if product is not None:
                found.append(ProductMention(span.start, span.start + size, product, word[:size]))
                break
    return found


def _unit_use(text: str, token: Token) -> bool:
    """A one-character product right after a number is a unit (2米高); glued to Latin letters it
    is half of a word typed partly in pinyin (yu米), which `fuzzy` reads instead."""
    if len(token.word) != 1:
        return False
    before = text[token.start - 1] if token.start > 0 else ""
    after = text[token.end] if token.end < len(text) else ""
    return before in _NUMERAL_CHARS or _latin(before) or _latin(after)


def _latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _implied(word: str, product: Product, lexicon: Lexicon) -> str | None:
    """The quality a synonym carries in front of the product (土鸡蛋 → 土, 野生甲鱼 → 野生).

    Not when the quality word is part of another product's name: the rest of the word names
    a different product (甜辣椒), or names none while the quality is one character (土豆, 土瓜),
    or the word opens with another product's name (土豆种 opens with 土豆).
    """
    if word == product.name:
        return None
    for size in (3, 2, 1):
        quality = lexicon.quality(word[:size]) if len(word) > size else None
        if quality is None or product.name.startswith(word[:size]):
            continue
        rest = lexicon.exact(word[size:])
        if rest is product or (rest is not None and rest.name in lexicon.ancestors(product.name)):
            return quality.canonical  # 土鸡蛋 = 土 + 鸡蛋, whatever 土鸡 names
        if rest is not None or size == 1:
            return None  # one character (土, 野, 鲜) counts only before a product's own name
        for end in range(size + 1, len(word)):
            other = lexicon.exact(word[:end])
            if other is not None and other is not product:
                return None
        return quality.canonical
    return None


def clerk_reading(text: str, products: Sequence[ProductMention], lexicon: Lexicon) -> list[ProductMention]:
    """Drop products that only describe others, and family words whose members are named."""
    if len(products) < 2:
        return list(products)
    products = _compounds(products, lexicon)
    kept = [m for m in products if not _describes(text, m)] or list(products)
    following = [*kept[1:], None]
    kept = [m for m, after in zip(kept, following, strict=True) if not _modifies(m, after, lexicon)]
    kept = [m for m in kept if not _variety_of_another(m, kept, lexicon)] or kept
    kept = _context_words(text, kept)
    named = {m.product.name for m in kept}
    ancestors = {a for name in named for a in lexicon.ancestors(name)}
    return [m for m in kept if m.product.name not in ancestors] or kept


def _compounds(products: Sequence[ProductMention], lexicon: Lexicon) -> list[ProductMention]:
    """A crop glued to 苗 is that crop's seedling (玉米苗), an animal glued to 饲料/料 its feed
    (仔猪饲料 → 猪饲料), when the segmenter split them."""
    joined: list[ProductMention] = []
    i = 0
    while i < len(products):
        mention = products[i]
        after = products[i + 1] if i + 1 < len(products) else None
        product = _compound(mention, after, lexicon) if after is not None and after.start == mention.end else None
        if product is not None and after is not None:
            joined.append(ProductMention(mention.start, after.end, product, mention.word + after.word, mention.quality))
            i += 2
        else:
            joined.append(mention)
            i += 1
    return joined


def _compound(first: ProductMention, second: ProductMention, lexicon: Lexicon) -> Product | None:
    """The one product two glued mentions name together, if they do."""
    whole = lexicon.exact(first.word + second.word)
    if whole is not None:
        return whole
    product = first.product
    names = (first.word, product.name, *lexicon.ancestors(product.name))
    if second.word in _SEEDLING_WORDS and product.category not in _ANIMAL_CATEGORIES:
        for name in names:
            seedling = lexicon.exact(name + "苗")
            if seedling is not None and seedling.category == "苗木种子":
                return seedling
        return lexicon.exact(_SEEDLING_FAMILY.get(product.category, "苗木"))
    if second.product.name == "饲料" and product.category in _ANIMAL_CATEGORIES:
        for name in (*names, *reversed(product.name)):
            for tail in ("饲料", "料"):
                feed = lexicon.exact(name + tail)
                if feed is not None and "饲料" in lexicon.ancestors(feed.name):
                    return feed
    return None


def _describes(text: str, mention: ProductMention) -> bool:
    """吃玉米长大的, 玉米喂的, 做酒用, 会开拖拉机: the product is feed, purpose or skill."""
    before = text[max(0, mention.start - 2) : mention.start]
    return bool(_FED_BEFORE.search(before) or _FED_AFTER.match(text[mention.end : mention.end + 3]))


def _modifies(mention: ProductMention, following: ProductMention | None, lexicon: Lexicon) -> bool:
    """A product glued to the next one that only qualifies it.

    大棚黄瓜 / 化肥玉米 (how it was grown), 牛羊饲料 (what the feed is for), 湖羊羊羔 (a breed of
    the young animal sold).
    """
    if following is None or following.start != mention.end:
        return False
    first, second = mention.product, following.product
    if second.name in lexicon.ancestors(first.name) or first.name in lexicon.ancestors(second.name):
        return False  # 桂花树苗 = 桂花(树) + 树苗: a family word, dropped later
    if first.category in _SETTING_CATEGORIES:
        return second.category not in _SETTING_CATEGORIES
    if second.category in _SETTING_CATEGORIES:
        return first.category in _TARGET_CATEGORIES
    return any(name in second.name for name in (first.name, *lexicon.ancestors(first.name)))


def _variety_of_another(mention: ProductMention, mentions: list[ProductMention], lexicon: Lexicon) -> bool:
    """葡萄苗 阳光玫瑰, 樱桃苗 美早, 麦种 济麦22: a variety name describing another product."""
    product = mention.product
    if mention.word == product.name:
        return False
    family = {product.name, *lexicon.ancestors(product.name)}
    names = (product.name, mention.word)
    for other in mentions:
        if other.product.name in family or product.name in lexicon.ancestors(other.product.name):
            continue
        if any(name in other.product.name for name in names):
            return True
    return False


def _context_words(text: str, mentions: list[ProductMention]) -> list[ProductMention]:
    """Premises (鱼塘在掌起) and the crops a service works on (代收割 稻谷) are context, not goods."""
    kept = mentions
    if not _LETTING.search(text):
        kept = [m for m in kept if m.product.name not in _PREMISES] or kept
    if any(m.product.category == "劳务" for m in kept):
        kept = [m for m in kept if m.product.category in _LABOUR_COMPANIONS] or kept
    return kept


def with_labour(
    products: tuple[ProductMention, ...], cues: list[Cue], lexicon: Lexicon
) -> tuple[ProductMention, ...]:
    """招工 / 找活 name labour themselves when no kind of work is named."""
    for product in products:
        if product.product.category == "劳务":
            return products
    for cue in cues:
        if cue.word in LABOUR_CUES:
            worker = ProductMention(cue.start, cue.end, lexicon.product("工人"), cue.word)
            return tuple(sorted((*products, worker), key=lambda m: m.start))
    return products


def with_land(
    products: tuple[ProductMention, ...], quantities: list[Quantity], lexicon: Lexicon
) -> tuple[ProductMention, ...]:
    """"10亩地想租出去": land named only by its unit."""
    if not quantities:
        return products
    for product in products:
        if product.product.name in ("土地", "鱼塘"):
            return products
    for quantity in quantities:
        if quantity.unit.word in ("亩地", "亩田"):
            land = ProductMention(quantity.start, quantity.end, lexicon.product("土地"), quantity.unit.word)
            return tuple(sorted((*products, land), key=lambda m: m.start))
    return products
