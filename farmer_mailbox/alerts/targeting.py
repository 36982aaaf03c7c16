"""Who an alert reaches: region words to disjoint subtrees, scope, the paying bureau, crop words.

Regions are resolved near the acting officer's county, nested ones folded into their ancestor
(so no one is counted twice), and checked against the actor's scope. Crop words are expanded
into the canonical product names farmers follow (`user_interests.product`) by an injected
`CropExpander`: identity until the lexicon lands, `lexicon_expander(load_lexicon())` after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from farmer_mailbox.accounts import fail
from farmer_mailbox.models import CODE_DIGITS, Level, Role
from farmer_mailbox.regions import RegionTree, is_within, level_of, normalise_code
from farmer_mailbox.scoping import Actor, region_scope_error
from farmer_mailbox.store.base import subtree_bounds

from .model import ALL_ROLES

CropExpander = Callable[[str], frozenset[str]]
SENDERS = frozenset({Role.OFFICER, Role.ADMIN})


def identity_expander(word: str) -> frozenset[str]:
    """Until the lexicon is wired: a crop word stands for itself."""
    word = word.strip()
    return frozenset({word}) if word else frozenset()


class ProductLike(Protocol):
    """What the lexicon's Product offers (farmer_mailbox.text.lexicon)."""

    @property
    def name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def parent(self) -> str | None: ...


class LexiconLike(Protocol):
    """What the lexicon offers: every product, and the product a word names."""

    def products(self) -> Sequence[ProductLike]: ...
    def lookup(self, word: str) -> ProductLike | None: ...


def lexicon_expander(lexicon: LexiconLike) -> CropExpander:
    """Expand a crop word with the lexicon: a category (水果) to all its products, a product
    (水稻 → 稻谷) to itself and its descendants (粮食 → 玉米, 小麦, 稻谷, ...); unknown → empty."""
    products = list(lexicon.products())
    children: dict[str, list[str]] = {}
    by_category: dict[str, set[str]] = {}
    for p in products:
        by_category.setdefault(p.category, set()).add(p.name)
        if p.parent:
            children.setdefault(p.parent, []).append(p.name)

    def descendants(name: str) -> set[str]:
        found, stack = {name}, [name]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def expand(word: str) -> frozenset[str]:
        word = word.strip()
        if word in by_category:
            return frozenset(by_category[word])
        product = lexicon.lookup(word)
        return frozenset(descendants(product.name)) if product is not None else frozenset()

    return expand


def expand_crops(expander: CropExpander, crops: Iterable[str]) -> tuple[str, ...]:
    """Canonical products for the crop words asked for; refuse a word that names nothing."""
    found: set[str] = set()
    for word in crops:
        names = expander(word)
        if not names:
            raise fail("alert.crop_unknown", name=word)
        found |= names
    return tuple(sorted(found))


def resolve_region(tree: RegionTree, word: str, near: str | None) -> str:
    """A region name (龙山镇) or 2/4/6/9/12-digit code to its 12-digit code, near the actor."""
    word = word.strip()
    if word.isdigit():
        try:
            code = normalise_code(word)[0]
        except ValueError:
            raise fail("alert.region_unknown", name=word) from None
        if code not in tree:
            raise fail("alert.region_unknown", name=word)
        return code
    found = tree.resolve(word, near)
    if found.region is not None:
        return found.region.code
    if found.ambiguous:
        shown = "、".join(tree.display(r.code, Level.CITY) for r in found.candidates[:3])
        raise fail("alert.region_ambiguous", name=word, candidates=shown)
    raise fail("alert.region_unknown", name=word)


def disjoint(codes: Iterable[str]) -> tuple[str, ...]:
    """Drop every region that lies inside another one given, so subtrees do not overlap (order kept)."""
    given = list(dict.fromkeys(codes))
    kept: list[str] = []
    for code in sorted(given, key=level_of):
        if not any(is_within(code, top) for top in kept):
            kept.append(code)
    return tuple(c for c in given if c in kept)


def resolve_regions(tree: RegionTree, words: Iterable[str], near: str | None) -> tuple[str, ...]:
    """Resolve every region word and fold nested ones; refuse an empty target."""
    codes = disjoint(resolve_region(tree, w, near) for w in words if w.strip())
    if not codes:
        raise fail("alert.regions")
    return codes


def home_of(actor: Actor) -> str | None:
    """Where the actor's place names are resolved first: an officer's county, else their village."""
    if actor.user is None:
        return None
    return actor.user.county_code or actor.user.village_code


def check_sender(actor: Actor) -> None:
    """Only officers, admins and the shell operator send alerts."""
    if not actor.is_operator and actor.role not in SENDERS:
        raise fail("scope.role")


def check_scope(actor: Actor, regions: Iterable[str]) -> None:
    """Officers act within their county only; admins and the operator anywhere."""
    check_sender(actor)
    for code in regions:
        problem = region_scope_error(actor, code)
        if problem:
            raise fail(problem)


def bureau_of(regions: Sequence[str]) -> str | None:
    """The county whose bureau pays: the one county holding every target, else None (multi-county)."""
    counties = {code[:6] for code in regions}
    if len(counties) != 1 or any(level_of(code) < Level.COUNTY for code in regions):
        return None
    return next(iter(counties)).ljust(12, "0")


def region_bounds(code: str) -> tuple[str, str]:
    """[low, high) text bounds of the users.village_code values inside a region's subtree."""
    return subtree_bounds(code, CODE_DIGITS[level_of(code)])


def parse_roles(words: Iterable[str]) -> tuple[Role, ...]:
    """Role words to roles (all roles when none is given)."""
    roles: list[Role] = []
    for word in words:
        word = word.strip().lower()
        if not word:
            continue
        try:
            roles.append(Role(word))
        except ValueError:
            raise fail("alert.roles") from None
    return tuple(r for r in ALL_ROLES if r in roles) or ALL_ROLES
