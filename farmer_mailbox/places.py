"""The region tree as the text parser's place resolver (`farmer_mailbox.text.PlaceResolver`)."""

from __future__ import annotations

from collections.abc import Iterable

from farmer_mailbox.models import Level
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.text import Location

LEVEL_NAMES = {Level.PROVINCE: "province", Level.CITY: "city", Level.COUNTY: "county", Level.TOWN: "town",
               Level.VILLAGE: "village"}


class TreePlaces:
    """Resolves place mentions through the region tree, near the sender's home when ambiguous."""

    def __init__(self, tree: RegionTree) -> None:
        self.tree = tree

    def known_names(self) -> Iterable[str]:
        """Every alias the tree knows (短名, 全名)."""
        return self.tree.known_names()

    def resolve(self, mention: str, home_code: str | None) -> Location | None:
        """A Location for the mention: resolved, ambiguous (no code), or None when unknown."""
        result = self.tree.resolve(mention, home_code)
        if result.region is not None:
            region = result.region
            return Location(mention, region.code, self.tree.display(region.code, Level.PROVINCE),
                            LEVEL_NAMES[region.level])
        if result.ambiguous:
            return Location(mention, None, None, None, ambiguous=True)
        return None
