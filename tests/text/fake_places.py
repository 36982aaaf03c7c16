"""A small fake place resolver for the text tests."""

from __future__ import annotations

from collections.abc import Iterable

from farmer_mailbox.text.models import Location

_PLACES = {
    "杨高村": ("330282101201", "杨高村", "village"),
    "横河镇": ("330282101", "横河镇", "town"),
    "横河": ("330282101", "横河镇", "town"),
    "慈溪市": ("330282", "慈溪市", "county"),
    "水城": ("520221", "水城区", "county"),
}


class FakeResolver:
    """Knows five places; counts resolve calls so tests can see what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def known_names(self) -> Iterable[str]:
        return list(_PLACES)

    def resolve(self, mention: str, home_code: str | None) -> Location | None:
        self.asked.append((mention, home_code))
        found = _PLACES.get(mention)
        return Location(mention, *found) if found else None
