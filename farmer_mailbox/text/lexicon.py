"""The agricultural lexicon: products with categories, synonyms and families; pests; quality words.

Data lives in `data/products.csv`, `data/pests.csv` and `data/quality.csv` (format and sources in
`data/README.md` and `data/SOURCES.md`). Each surface form maps to exactly one canonical product.

Families: every product may name a `parent`. The matching rule the service uses is

    a buyer's product matches a seller's product when they are equal, or when the buyer's
    product is an ancestor of the seller's (化肥 ⊃ 尿素; 鱼 ⊃ 草鱼; 苗木 ⊃ 果苗 ⊃ 葡萄苗).

Families are kept to things a buyer would accept: 生猪 has no 猪肉 or 猪饲料 child, and 鸡苗
and 鸡蛋 are in no family with 鸡. `Lexicon.matches` implements the rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from farmer_mailbox.text._data import read_rows, split_list
from farmer_mailbox.text.normalize import normalize

CATEGORIES = ("粮油", "蔬菜", "水果", "畜禽", "水产", "苗木种子", "农资", "农机", "劳务", "其他")
PEST_KINDS = ("虫害", "病害")


@dataclass(frozen=True, slots=True)
class Product:
    """A canonical product with its category, synonyms, family parent and usual price unit."""

    name: str
    category: str
    synonyms: tuple[str, ...]
    parent: str | None
    unit: str = "斤"


@dataclass(frozen=True, slots=True)
class Pest:
    """A crop pest or disease and the canonical products it attacks."""

    name: str
    kind: str
    crops: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Quality:
    """A quality word, its canonical form, and whether it counts when standing alone."""

    word: str
    canonical: str
    standalone: bool


class Lexicon:
    """Products, pests and quality words, with synonym-aware lookup and the family rule."""

    def __init__(self, products: list[Product], pests: list[Pest], qualities: list[Quality]) -> None:
        self._products = {p.name: p for p in products}
        self._surface: dict[str, Product] = {}
        for product in products:
            for word in (product.name, *product.synonyms):
                self._surface.setdefault(word.lower(), product)
        self._pests = tuple(pests)
        self._pest_surface = {w: p for p in pests for w in (p.name, *p.synonyms)}
        self._qualities = {q.word: q for q in qualities}
        self._entries: dict[str, Product | Pest | Quality] = {**self._qualities, **self._pest_surface}
        self._entries.update(self._surface)
        self._chains: dict[str, tuple[str, ...]] = {}  # ancestors, filled on first use

    def products(self) -> tuple[Product, ...]:
        """All canonical products, in data-file order."""
        return tuple(self._products.values())

    def product(self, canonical: str) -> Product:
        """The product with this canonical name; KeyError when there is none."""
        return self._products[canonical]

    def lookup(self, word: str) -> Product | None:
        """The product a word names (canonical name or any synonym), or None."""
        hit = self._surface.get(word.strip().lower())
        if hit is None and word and not word.isascii():
            hit = self._surface.get(normalize(word))
        return hit

    def exact(self, word: str) -> Product | None:
        """The product a lower-cased, normalised surface form names (no clean-up; fast)."""
        return self._surface.get(word)

    def entries(self) -> dict[str, Product | Pest | Quality]:
        """Every known word with what it names (product first, then pest, then quality word):
        one lookup per word in hot loops. Read only."""
        return self._entries

    def surfaces(self) -> Iterator[tuple[str, Product]]:
        """Every surface form (lower-cased) with the product it names."""
        return iter(self._surface.items())

    def pests(self) -> tuple[Pest, ...]:
        """All pests and diseases."""
        return self._pests

    def pest(self, word: str) -> Pest | None:
        """The pest or disease a word names, or None."""
        return self._pest_surface.get(word)

    def pest_surfaces(self) -> tuple[str, ...]:
        """Every pest name and synonym."""
        return tuple(self._pest_surface)

    def quality(self, word: str) -> Quality | None:
        """The quality word entry for `word`, or None."""
        return self._qualities.get(word)

    def qualities(self) -> tuple[Quality, ...]:
        """All quality words."""
        return tuple(self._qualities.values())

    def ancestors(self, canonical: str) -> tuple[str, ...]:
        """Parent, grandparent, ... of a product (nearest first)."""
        found = self._chains.get(canonical)
        if found is not None:
            return found
        chain: list[str] = []
        parent = self._products[canonical].parent
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self._products[parent].parent
        self._chains[canonical] = found = tuple(chain)
        return found

    def matches(self, wanted: str, offered: str) -> bool:
        """True when a buyer of `wanted` should see a seller of `offered` (the family rule)."""
        return wanted == offered or wanted in self.ancestors(offered)


def _product(row: dict[str, str]) -> Product:
    return Product(
        name=row["name"],
        category=row["category"],
        synonyms=split_list(row["synonyms"]),
        parent=row["parent"] or None,
        unit=row["unit"] or "斤",
    )


def _pest(row: dict[str, str]) -> Pest:
    return Pest(row["name"], row["kind"], split_list(row["crops"], ";"), split_list(row["synonyms"]))


def _quality(row: dict[str, str]) -> Quality:
    return Quality(row["word"], row["canonical"], row["standalone"] == "1")


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Load the packaged lexicon once and cache it."""
    return Lexicon(
        [_product(r) for r in read_rows("products.csv")],
        [_pest(r) for r in read_rows("pests.csv")],
        [_quality(r) for r in read_rows("quality.csv")],
    )
