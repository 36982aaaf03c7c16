"""Reading one message the way a patient village clerk would: `parse(text) -> ParseResult`.

Order of reading: normalise; opt-out (always wins); phones out; commands; segment; products,
pests and quality words; homophone guesses only when nothing was named; prices, then quantities
outside them; place; cues; then each product becomes one posting that owns the amounts written
next to it (after it, or glued before it: 20头仔猪).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from farmer_mailbox.text import fuzzy
from farmer_mailbox.text.commands import detect_command
from farmer_mailbox.text.intent import LABOUR_CUES, Cue, decide_intent, find_cues, side_for
from farmer_mailbox.text.lexicon import Lexicon, Product, load_lexicon
from farmer_mailbox.text.mentions import Mentions, ProductMention, clerk_reading, scan
from farmer_mailbox.text.models import Command, Intent, Location, ParseResult, PlaceResolver, Posting, Side
from farmer_mailbox.text.normalize import normalize
from farmer_mailbox.text.numbers import (
    Price,
    Quantity,
    Unit,
    bare_amounts,
    find_prices,
    find_quantities,
    pack_unit,
    shared_price,
    unit,
)
from farmer_mailbox.text.phones import find_phones
from farmer_mailbox.text.places import find_mention, locate
from farmer_mailbox.text.pricing import price_fields
from farmer_mailbox.text.segment import Segmenter, Token, default_segmenter

_T = TypeVar("_T")
_MASK = "□"
_LIST_GAP = re.compile(r"^[\s,、和及与跟/]*$")
_PRICE_QUESTION = re.compile(r"价|钱|行情|多少")
_CUE_CHARS = frozenset("卖收买售购")
_TOTAL = re.compile(r"(?:一共|总共|共计|合计|总计)\s*$")
# Units only some categories are counted in: 一台 is a machine's, 20头 an animal's (三七 20头 is a
# grade, 一台收割机 beside 机收服务 is the service's means).
_UNIT_KINDS = {"台": ("农机",), "辆": ("农机",), "头": ("畜禽",), "匹": ("畜禽",)}
# Asking where something is sold (no amount): a search of the offers, not a buy posting.
_WHERE_TO_BUY = re.compile(
    r"(?:哪里|哪儿|哪里有|哪有|哪儿有|在哪|在哪里|什么地方|哪个地方|哪家)(?:有|能|可以|才能)?(?:[^,。;!?\n]{0,8}?)"
    r"(?:卖|买到?|买得到|购买|出售)"
)
_JIN = Unit("斤", "斤", "斤", 1.0)
_MACHINE_UNITS = frozenset(("台", "辆", "部", "套"))
_SPOKEN_UNITS = {"斤": _JIN, "公斤": _JIN, "株": Unit("株", "株", "株", 1.0)}
_RARE_WORD_FREQ = 100


@dataclass(slots=True)
class _Reading:
    """Intermediate results of one message, shared by the assembly steps."""

    text: str
    tokens: Sequence[Token]
    products: tuple[ProductMention, ...]
    mentions: Mentions
    quantities: list[Quantity]
    prices: list[Price]
    cues: list[Cue]
    free: list[bool] | None  # characters no reading explains yet; computed when first needed
    pack: str | None = None


class _Spanned(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def parse(text: str, *, places: PlaceResolver | None = None, home_code: str | None = None) -> ParseResult:
    """Understand one message (pure and deterministic; never raises: unreadable text is "other")."""
    try:
        return parse_strict(text, places=places, home_code=home_code)
    except Exception:  # the contract: a message the reader cannot cope with is simply not understood
        return ParseResult(text=text if isinstance(text, str) else "", intent="other")


def parse_strict(
    text: str, *, places: PlaceResolver | None = None, home_code: str | None = None
) -> ParseResult:
    """`parse`, but letting internal errors through (for tests and debugging)."""
    norm = normalize(text)
    phones, masked = find_phones(norm)
    segmenter = default_segmenter()
    lexicon = load_lexicon()
    command = detect_command(norm, lambda s: products_in(s, segmenter, lexicon))
    if command is not None:
        return ParseResult(text, "command", (), command, phones)
    reading = _read(masked.replace("千克", "公斤"), segmenter, lexicon)
    sides = _sides(reading)
    intent = decide_intent(
        reading.cues,
        products=bool(reading.products),
        amounts=_amounts(reading),
        pest=bool(reading.mentions.pests),
        sides=[side for side in sides.values() if side],
    )
    if intent == "buy" and _WHERE_TO_BUY.search(norm) and not _amounts(reading):
        intent = "query"  # 哪里有卖葡萄苗: show what is on offer, post nothing
        command = None
    else:
        command = _implied_command(reading, intent, norm)
    if command is not None and command.name == "ask":
        reading = replace(reading, products=_crops_of_trees(reading.products, lexicon))
    postings: tuple[Posting, ...] = ()
    if intent in ("sell", "buy", "query") and reading.products:
        location = _location(reading, places, home_code)
        postings = _postings(reading, intent, sides, location)
    return ParseResult(text, intent, postings, command, phones)


def _amounts(reading: _Reading) -> bool:
    return bool(reading.quantities or any(p.value for p in reading.prices))


def products_in(text: str, segmenter: Segmenter, lexicon: Lexicon) -> list[str]:
    """Canonical products named in free text, in order, without repeats (for command args)."""
    names: list[str] = []
    for word in segmenter.cut(text):
        product = lexicon.exact(word)
        if product is not None and product.name not in names:
            names.append(product.name)
    return names


def _read(text: str, segmenter: Segmenter, lexicon: Lexicon) -> _Reading:
    tokens = segmenter.tokens(text)
    mentions = scan(text, tokens, lexicon)
    if not mentions.products:
        tokens = _cue_split(tokens, segmenter)
    named: list[_Spanned] = [*mentions.products, *mentions.pests, *mentions.qualities]
    numeric = _masked(text, [(m.start, m.end) for m in named])
    prices = find_prices(numeric)
    quantities = find_quantities(numeric, prices)
    cues = find_cues(text, tokens, frozenset([m.start for m in mentions.products]))
    free = None
    if mentions.products:
        products = _respelled(text, tokens, mentions, segmenter, prices, quantities, cues)
    else:
        free = _free(text, mentions, prices, quantities, _first_cues(cues, tokens))
        products = _guesses(tokens, free, segmenter, quantities, prices)
        if products:  # a cue swallowed by a typo (卖小卖5吨: 小卖 is 小麦) is no cue
            cues = [c for c in cues if not _overlaps(c.start, c.end, products)]
    products = _with_land(_with_labour(products, cues, lexicon), quantities, lexicon)
    products = tuple(clerk_reading(text, products, lexicon))
    if products and all(m.product is products[0].product for m in products):  # one product
        if not quantities:
            quantities = _spoken_weight(numeric, products[-1], prices)
        if not any(p.value for p in prices):
            prices = _spoken_price(numeric, products[-1], quantities) or prices
    return _Reading(text, tokens, products, mentions, quantities, prices, cues, free, pack_unit(numeric))


def _cue_split(tokens: list[Token], segmenter: Segmenter) -> list[Token]:
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


def _first_cues(cues: list[Cue], tokens: Sequence[Token]) -> list[Cue]:
    """The cues a typo cannot have swallowed: all but one-character cues after the first cue."""
    return [c for i, c in enumerate(cues) if i == 0 or c.end - c.start > 1]


def _overlaps(start: int, end: int, spans: Sequence[_Spanned]) -> bool:
    return any(start < span.end and span.start < end for span in spans)


def _respelled(
    text: str,
    tokens: Sequence[Token],
    mentions: Mentions,
    segmenter: Segmenter,
    prices: list[Price],
    quantities: list[Quantity],
    cues: list[Cue],
) -> tuple[ProductMention, ...]:
    """The products named, with a one-character product glued to a stray rare character read as
    the longer product they spell together (葡桃 → 葡萄, 鸡苖 → 鸡苗)."""
    products = mentions.products
    starts = {token.start: k for k, token in enumerate(tokens)}
    suspects = [
        (i, starts[m.start])
        for i, m in enumerate(products)
        if m.end - m.start == 1 and m.start in starts
        and any(
            0 <= j < len(tokens) and fuzzy.rare_char(segmenter, tokens[j].word)
            for j in (starts[m.start] - 1, starts[m.start] + 1)
        )
    ]
    if not suspects:
        return products
    free = _free(text, mentions, prices, quantities, cues)
    usable = [all(free[t.start : t.end]) for t in tokens]
    respelled = list(products)
    for i, k in suspects:
        better = fuzzy.respell(tokens, k, usable, products[i].product)
        if better is not None:
            respelled[i] = ProductMention(better.start, better.end, better.product, text[better.start : better.end])
    return tuple(respelled)


def _spoken_weight(text: str, product: ProductMention, prices: list[Price]) -> list[Quantity]:
    """"卖玉米两千五": an amount said without a unit right after a product sold by weight is in
    斤, as a clerk would read it (the unit farmers count in); after seedlings it is in 株 (no
    seedling costs 两千 a plant). Only spoken amounts with a magnitude (两千五, 一万二, 3千); a
    bare 2400 might be a price per 吨 and is left alone, and so is anything after livestock
    (卖牛 一万二 is a price)."""
    found = _SPOKEN_UNITS.get(product.product.unit)
    if found is None:
        return []
    for start, end, value in bare_amounts(text, prices):
        if start >= product.end and _LIST_GAP.match(text[product.end : start]):
            return [Quantity(start, end, value, found)]
    return []


def _spoken_price(text: str, product: ProductMention, quantities: list[Quantity]) -> list[Price]:
    """"卖收割机 久保田 二手 6万": a spoken sum after a machine is its price (nobody sells 60,000
    harvesters)."""
    per = product.product.unit
    if per not in _MACHINE_UNITS:
        return []
    for start, end, value in bare_amounts(text, []):
        if start >= product.end and not _overlaps(start, end, quantities):
            return [Price(start, end, value, None, per)]
    return []


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with product and quality words blanked, so 三元猪 or 九成新 hold no number."""
    for start, end in spans:
        text = text[:start] + _MASK * (end - start) + text[end:]
    return text


def _free(text: str, mentions: Mentions, *others: Sequence[_Spanned]) -> list[bool]:
    """Characters not yet explained by a product, pest, quality word, amount or cue."""
    free = [True] * len(text)
    spans: list[_Spanned] = [*mentions.products, *mentions.pests, *mentions.qualities]
    for group in others:
        spans.extend(group)
    for span in spans:
        free[span.start : span.end] = [False] * (span.end - span.start)
    return free


def _guesses(
    tokens: Sequence[Token],
    free: list[bool],
    segmenter: Segmenter,
    quantities: list[Quantity],
    prices: list[Price],
) -> tuple[ProductMention, ...]:
    """Homophone guesses, used only when nothing was named exactly."""
    units = [q.unit.name for q in quantities] + [p.per for p in prices if p.per]
    guesses = fuzzy.guess(tokens, free, segmenter, units)
    return tuple(ProductMention(g.start, g.end, g.product, g.product.name) for g in guesses)


def _with_labour(
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


def _with_land(
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


def _location(reading: _Reading, places: PlaceResolver | None, home_code: str | None) -> Location | None:
    """The place the message names, resolved when a resolver is given."""
    if reading.free is None:
        # The products read are mostly the ones mentioned (then marking them once is enough).
        products = () if reading.products == reading.mentions.products else reading.products
        reading.free = _free(reading.text, reading.mentions, reading.prices, reading.quantities, reading.cues, products)
    mention = find_mention(reading.text, reading.tokens, reading.free, places)
    if mention is None:
        return None
    try:
        return locate(mention, places, home_code)
    except Exception:  # a failing resolver must not lose the message: keep the mention's text
        return Location(text=mention.text)


def _sides(reading: _Reading) -> dict[str, Side | None]:
    """Each product (by its first mention) and the side its cues put it on, if any."""
    sides: dict[str, Side | None] = {}
    for mention, window in _windows(reading.products):
        if mention.product.name not in sides:
            sides[mention.product.name] = side_for(mention.start, window, reading.cues)
    return sides


def _windows(products: Sequence[ProductMention]) -> list[tuple[ProductMention, tuple[int, int]]]:
    """Each product with its clause window: from the previous product's end to the next's start."""
    windows = []
    for i, mention in enumerate(products):
        low = products[i - 1].end if i > 0 else 0
        high = products[i + 1].start if i + 1 < len(products) else 1 << 30
        windows.append((mention, (low, high)))
    return windows


def _owner(start: int, end: int, text: str, products: Sequence[ProductMention]) -> str | None:
    """Which product an amount or word belongs to: the one it is glued before, else the one
    before it, else the first after it."""
    covering = next((m for m in products if m.start < end and start < m.end), None)
    if covering is not None:
        return covering.product.name
    following = next((m for m in products if m.start >= end), None)
    if following is not None and text[end : following.start] in ("", "的"):
        return following.product.name
    preceding = [m for m in products if m.end <= start]
    if preceding:
        return preceding[-1].product.name
    return following.product.name if following else None


@dataclass(slots=True)
class _Owned:
    """Quantities, prices and quality words grouped by the product that owns each."""

    quantities: dict[str, list[Quantity]] = field(default_factory=dict)
    prices: dict[str, list[Price]] = field(default_factory=dict)
    qualities: dict[str, list[str]] = field(default_factory=dict)


def _postings(
    reading: _Reading, intent: Intent, sides: dict[str, Side | None], location: Location | None
) -> tuple[Posting, ...]:
    """One posting per canonical product, in order of first mention."""
    default: Side = "sell" if intent == "sell" else "buy"
    firsts: dict[str, ProductMention] = {}
    for mention in reading.products:
        firsts.setdefault(mention.product.name, mention)
    owned = _ownership(reading)
    postings = []
    for name, mention in firsts.items():
        quantity = _main_quantity(_countable(owned.quantities.get(name, []), mention.product), mention.product)
        price = _first_price(owned.prices.get(name, []), reading.prices)
        qualities = owned.qualities.get(name, [])
        side = sides.get(name) or default
        postings.append(_posting(reading, mention, side, quantity, price, qualities, location))
    return tuple(postings)


def _countable(quantities: list[Quantity], product: Product) -> list[Quantity]:
    """The amounts in units the product can be counted in."""
    if not quantities:
        return quantities
    return [q for q in quantities if product.category in _UNIT_KINDS.get(q.unit.name, (product.category,))]


def _main_quantity(quantities: list[Quantity], product: Product) -> Quantity | None:
    """The amount on offer: the first one, unless it is a lone "一头"/"一只" of another kind
    than the product is counted in ("卖猪肉 一头猪的肉 300斤": 300斤)."""
    if not quantities:
        return None
    first = quantities[0]
    if first.value != 1 or len(quantities) == 1:
        return first
    usual = unit(product.unit)
    weighed = usual is not None and usual.is_weight
    if first.unit.is_weight == weighed:
        return first
    return next((q for q in quantities[1:] if q.unit.is_weight == weighed), first)


def _ownership(reading: _Reading) -> _Owned:
    """Give every amount and quality word to the product it was written with."""
    text, products = reading.text, reading.products
    if products:
        first = products[0].product.name
        for mention in products:
            if mention.product.name != first:
                break
        else:
            return _all_to_one(reading, first)
    owned = _Owned()
    names = list(dict.fromkeys(m.product.name for m in products))
    for quantity in reading.quantities:
        if _TOTAL.search(text, max(0, quantity.start - 4), quantity.start):
            continue  # "鲢鱼 鳙鱼 草鱼 都有 一共2万斤": the total of several is no one's amount
        if text[: quantity.start].rstrip().endswith("各"):
            for name in names:
                owned.quantities.setdefault(name, []).append(quantity)
        _own(owned.quantities, _owner(quantity.start, quantity.end, text, products), quantity)
    for price in reading.prices:
        owner = _owner(price.start, price.end, text, products)
        shared = names if shared_price(text, price) else _listed_with(owner, text, products)
        for name in shared:
            _own(owned.prices, name, price)
    for mention in products:
        if mention.quality:
            _own(owned.qualities, mention.product.name, mention.quality)
    for span in reading.mentions.qualities:
        _own(owned.qualities, _owner(span.start, span.end, text, products), span.value)
    return owned


def _all_to_one(reading: _Reading, name: str) -> _Owned:
    """The common case: one product owns every amount and quality word."""
    said = [(m.start, m.quality) for m in reading.products if m.quality]
    if reading.mentions.qualities:
        said += [(q.start, q.value) for q in reading.mentions.qualities]
        said.sort()
    return _Owned({name: reading.quantities}, {name: reading.prices}, {name: [q for _, q in said]})


def _listed_with(name: str | None, text: str, products: Sequence[ProductMention]) -> list[str]:
    """`name` and the products listed right before it ("辣椒苗 番茄苗 茄子苗 每株2毛" prices all)."""
    if name is None:
        return []
    index = max(i for i, m in enumerate(products) if m.product.name == name)
    group = [name]
    while index > 0 and _LIST_GAP.match(text[products[index - 1].end : products[index].start]):
        index -= 1
        group.append(products[index].product.name)
    return group


def _own(table: dict[str, list[_T]], name: str | None, item: _T) -> None:
    if name is not None:
        table.setdefault(name, []).append(item)


def _first_price(own: list[Price], everywhere: list[Price]) -> Price | None:
    """A product's first valued price, else its 面议, else a message-wide 面议."""
    for price in own:
        if price.value is not None:
            return price
    if own:
        return own[0]
    for price in everywhere:
        if price.negotiable:
            return price
    return None


def _posting(
    reading: _Reading,
    mention: ProductMention,
    side: Side,
    quantity: Quantity | None,
    price: Price | None,
    qualities: list[str],
    location: Location | None,
) -> Posting:
    product = mention.product
    price_value, price_max, price_unit = price_fields(price, quantity, product, reading.pack)
    if quantity is None and price is not None and price.one and price.per:
        quantity = _one_item(price)
    # Positional (side, product, category, quantity, unit, base_quantity, base_unit, price,
    # price_max, price_unit, quality, location): keywords cost a frozen dataclass a lot more.
    if quantity is None:
        return Posting(
            side, product.name, product.category, None, None, None, None,
            price_value, price_max, price_unit, tuple(dict.fromkeys(qualities)), location,
        )  # fmt: skip
    unit = quantity.unit
    return Posting(
        side, product.name, product.category, quantity.value, unit.name, quantity.base_value, unit.base,
        price_value, price_max, price_unit, tuple(dict.fromkeys(qualities)), location,
    )  # fmt: skip


def _one_item(price: Price) -> Quantity | None:
    """"拖拉机一台8000元": one item on offer, when its unit is counted, not weighed."""
    found = unit(price.per or "")
    if found is None or found.is_weight or found.base in ("亩", "平方米"):
        return None
    return Quantity(price.start, price.end, 1.0, found)


def _crops_of_trees(products: tuple[ProductMention, ...], lexicon: Lexicon) -> tuple[ProductMention, ...]:
    """In a question about sickness, 梨树 means the pear crop, not pear seedlings for sale."""
    crops = []
    for mention in products:
        crop = lexicon.exact(mention.product.name.removesuffix("苗"))
        if mention.product.parent == "果苗" and crop is not None:
            mention = mention._replace(product=crop)
        crops.append(mention)
    return tuple(crops)


def _implied_command(reading: _Reading, intent: Intent, text: str) -> Command | None:
    """A question implies a command: price questions → price, others → ask the experts."""
    if intent != "query":
        return None
    names = tuple(dict.fromkeys(m.product.name for m in reading.products))
    asks_price = any(c.side == "query" and _PRICE_QUESTION.search(c.word) for c in reading.cues)
    if asks_price and names and not reading.mentions.pests:
        return Command("price", names)
    return Command("ask", (text,))
