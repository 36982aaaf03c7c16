"""Product families: which canonical products a buyer's word covers.

The text layer resolves synonyms, so products here are canonical names (尿素, 化肥, 猪, 猪肉). The
lexicon gives each product an optional `parent`; this module takes that as a mapping
child -> parent and builds the family tree.

The rule. A buyer's product B matches a seller's product S when ``S == B`` or B is an ancestor of
S in the tree. A general word on the buying side covers the specific ones below it, never the
other way round, and never sideways:

- a buyer of 化肥 sees sellers of 尿素 and 复合肥 (children of 化肥);
- a buyer of 尿素 does not see a seller who only wrote 化肥 (it may be any fertiliser);
- a buyer of 鸡苗 never sees 鸡蛋, and a buyer of 猪 never sees 猪肉, unless the lexicon made one
  the parent of the other (it does not: both hang under different parents, or none).

Seen from a new sell posting of S, the buyers to tell are those of S and of every ancestor of S
(a seller of 尿素 finds buyers of 尿素 and of 化肥). Seen from a new buy posting of B, the sellers
are those of B and of every descendant of B.

A product the tree does not know has no ancestors and no descendants: it matches itself only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Families:
    """The product family tree, with ancestors and descendants of every product precomputed."""

    __slots__ = ("_ancestors", "_descendants")

    def __init__(self, ancestors: Mapping[str, tuple[str, ...]]) -> None:
        self._ancestors = dict(ancestors)
        self._descendants = _invert(self._ancestors)

    @classmethod
    def from_parents(cls, parents: Mapping[str, str | None]) -> Families:
        """Build the tree from {child: parent or None}; a cycle is a ValueError naming it."""
        ancestors: dict[str, tuple[str, ...]] = {}
        for product in parents:
            _resolve(product, parents, ancestors, ())
        return cls({p: chain for p, chain in ancestors.items() if chain})

    @classmethod
    def empty(cls) -> Families:
        """A tree where every product matches itself only."""
        return cls({})

    def ancestors(self, product: str) -> tuple[str, ...]:
        """The product's parent, grandparent, ... (nearest first, itself excluded)."""
        return self._ancestors.get(product, ())

    def descendants(self, product: str) -> frozenset[str]:
        """Every product below this one in the tree (itself excluded)."""
        return self._descendants.get(product, frozenset())

    def buyer_matches_seller(self, buyer_product: str, seller_product: str) -> bool:
        """True when a buyer of `buyer_product` should see a seller of `seller_product`."""
        return seller_product == buyer_product or buyer_product in self.ancestors(seller_product)

    def sellers_for(self, buyer_product: str) -> tuple[str, ...]:
        """Seller products a buyer of this product sees: itself, then its descendants (sorted)."""
        return (buyer_product, *sorted(self.descendants(buyer_product)))

    def buyers_for(self, seller_product: str) -> tuple[str, ...]:
        """Buyer products a seller of this product reaches: itself, then its ancestors."""
        return (seller_product, *self.ancestors(seller_product))


def _resolve(
    product: str,
    parents: Mapping[str, str | None],
    done: dict[str, tuple[str, ...]],
    visiting: tuple[str, ...],
) -> tuple[str, ...]:
    """Ancestors of `product`, memoised in `done`; `visiting` is the chain being resolved."""
    if product in done:
        return done[product]
    if product in visiting:
        cycle = " -> ".join((*visiting[visiting.index(product) :], product))
        raise ValueError(f"product family cycle: {cycle}")
    parent = parents.get(product)
    chain = () if parent is None else (parent, *_resolve(parent, parents, done, (*visiting, product)))
    done[product] = chain
    return chain


def _invert(ancestors: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Descendants of every product that has any, from the ancestors of every product."""
    below: dict[str, set[str]] = {}
    for product, chain in ancestors.items():
        for ancestor in chain:
            below.setdefault(ancestor, set()).add(product)
    return {product: frozenset(items) for product, items in below.items()}
