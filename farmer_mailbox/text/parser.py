"""Reading one message the way a patient village clerk would: `parse(text) -> ParseResult`.

Order of reading: normalise (characters typed one at a time joined); opt-out (always wins);
phones out; commands; segment; products, pests and quality words; typos (`typos`, `fuzzy`):
guesses only when nothing was named, respellings of one-character products glued to a stray
character; prices, then quantities outside them, then the readings of `amounts` (ranges,
ceilings, amounts said without a unit); place; cues; then each product becomes one posting that
owns the amounts written next to it (after it, or glued before it: 20头仔猪). "哪里有卖X" without
an amount is a query: the offers are shown, nothing is posted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from farmer_mailbox.text import fuzzy, typos
from farmer_mailbox.text.amounts import (
    MACHINE_UNITS,
    UNIT_KINDS,
    main_quantity,
    refine_prices,
    shared_price,
    spoken_price,
    spoken_weight,
)
from farmer_mailbox.text.commands import detect_command
from farmer_mailbox.text.intent import Cue, decide_intent, find_cues, side_for
from farmer_mailbox.text.lexicon import Lexicon, load_lexicon
from farmer_mailbox.text.mentions import Mentions, ProductMention, clerk_reading, scan, with_labour, with_land
from farmer_mailbox.text.models import Command, Intent, Location, ParseResult, PlaceResolver, Posting, Side
from farmer_mailbox.text.normalize import normalize
from farmer_mailbox.text.numbers import Price, Quantity, find_prices, find_quantities, pack_unit, unit
from farmer_mailbox.text.phones import find_phones
from farmer_mailbox.text.places import find_mention, locate
from farmer_mailbox.text.pricing import price_fields
from farmer_mailbox.text.segment import Segmenter, Token, default_segmenter

MAX_READ = 1000   # characters read for postings: 14 SMS segments, more than any farmer writes
_T = TypeVar("_T")
_MASK = "□"
_LIST_GAP = re.compile(r"^[\s,、和及与跟/]*$")
_PRICE_QUESTION = re.compile(r"价|钱|行情|多少")
_TOTAL = re.compile(r"(?:一共|总共|共计|合计|总计)\s*$")
# Asking where something is sold (no amount): a search of the offers, not a buy posting.
_WHERE_TO_BUY = re.compile(
    r"(?:哪里|哪儿|哪里有|哪有|哪儿有|在哪|在哪里|什么地方|哪个地方|哪家)(?:有|能|可以|才能)?(?:[^,。;!?\n]{0,8}?)"
    r"(?:卖|买到?|买得到|购买|出售)"
)



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
    command = detect_command(norm, lambda s: products_in(s[:MAX_READ], segmenter, lexicon))
    if command is not None:
        return ParseResult(text, "command", (), command, phones)
    # products, amounts and prices from the first MAX_READ characters only: reading grows with the
    # square of the products named (a 20,000-character message held the event loop for seconds);
    # commands, opt-out and phone numbers are still found anywhere in the text
    reading = _read(masked[:MAX_READ].replace("千克", "公斤"), segmenter, lexicon)
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
    return bool(reading.quantities) or _valued(reading.prices)


def _valued(prices: list[Price]) -> bool:
    for price in prices:  # noqa: SIM110 (a loop is cheaper than any() on this hot path)
        if price.value:
            return True
    return False


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
        tokens = typos.cue_split(tokens, segmenter)
    named: list[_Spanned] = [*mentions.products, *mentions.pests, *mentions.qualities]
    numeric = _masked(text, [(m.start, m.end) for m in named])
    prices = find_prices(numeric)
    if prices:
        prices = refine_prices(numeric, prices)
    quantities = find_quantities(numeric, prices)
    cues = find_cues(text, tokens, frozenset([m.start for m in mentions.products]))
    free = None
    if mentions.products:
        products = mentions.products
        for mention in products:
            if mention.end - mention.start == 1:  # a one-character product may be half a typo
                products = typos.respelled(
                    text, tokens, products, segmenter, lambda: _free(text, mentions, prices, quantities, cues)
                )
                break
    else:
        free = _free(text, mentions, prices, quantities, typos.typo_cues(cues))
        products = _guesses(tokens, free, segmenter, quantities, prices)
        if products:  # a cue swallowed by a typo (卖小卖5吨: 小卖 is 小麦) is no cue
            cues = [c for c in cues if not any(c.start < p.end and p.start < c.end for p in products)]
    products = with_land(with_labour(products, cues, lexicon), quantities, lexicon)
    products = tuple(clerk_reading(text, products, lexicon))
    if len(products) == 1 or (products and all(m.product is products[0].product for m in products)):
        if not quantities:
            quantities = spoken_weight(numeric, products[-1].product, products[-1].end, prices)
        if products[-1].product.unit in MACHINE_UNITS and not _valued(prices):
            prices = spoken_price(numeric, products[-1].product, products[-1].end, quantities) or prices
    return _Reading(text, tokens, products, mentions, quantities, prices, cues, free, pack_unit(numeric))


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
        own = owned.quantities.get(name)
        if not own:
            quantity = None
        elif len(own) == 1 and own[0].unit.name not in UNIT_KINDS:
            quantity = own[0]  # the common case
        else:
            quantity = main_quantity(own, mention.product)
        price = _first_price(owned.prices.get(name, []), reading.prices)
        qualities = owned.qualities.get(name, [])
        side = sides.get(name) or default
        postings.append(_posting(reading, mention, side, quantity, price, qualities, location))
    return tuple(postings)


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
