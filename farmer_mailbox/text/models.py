"""Result types of text understanding: what a farmer's message was read as.

All frozen dataclasses, so results can be cached, compared in tests and shared between tasks.
`ParseResult.to_json()` is the stable CLI/JSON shape the rest of the service relies on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Intent = Literal["sell", "buy", "query", "command", "other"]
Side = Literal["sell", "buy"]


@dataclass(frozen=True, slots=True)
class Location:
    """A place named in a message, resolved on the region tree when a resolver knew it."""

    text: str
    code: str | None = None
    name: str | None = None
    level: str | None = None
    ambiguous: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object form used by the CLI."""
        return {
            "text": self.text,
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "ambiguous": self.ambiguous,
        }


class PlaceResolver(Protocol):
    """Region-tree lookup injected by the caller (the text package never owns the tree)."""

    def known_names(self) -> Iterable[str]:
        """Place names worth recognising in text, including short forms such as 横河."""
        ...

    def resolve(self, mention: str, home_code: str | None) -> Location | None:
        """Resolve a mention, preferring places near `home_code`; None when unknown."""
        ...


@dataclass(frozen=True, slots=True)
class Posting:
    """One product offered or wanted, with what the message said about it."""

    side: Side
    product: str
    category: str
    quantity: float | None = None
    unit: str | None = None
    base_quantity: float | None = None
    base_unit: str | None = None
    price: float | None = None
    price_max: float | None = None
    price_unit: str | None = None
    quality: tuple[str, ...] = ()
    location: Location | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object form used by the CLI."""
        return {
            "side": self.side,
            "product": self.product,
            "category": self.category,
            "quantity": _num(self.quantity),
            "unit": self.unit,
            "base_quantity": _num(self.base_quantity),
            "base_unit": self.base_unit,
            "price": _num(self.price),
            "price_max": _num(self.price_max),
            "price_unit": self.price_unit,
            "quality": list(self.quality),
            "location": self.location.to_json() if self.location else None,
        }


@dataclass(frozen=True, slots=True)
class Command:
    """A short command (帮助/BZ, 退订/TD, ...) by canonical name, with its arguments."""

    name: str
    args: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object form used by the CLI."""
        return {"name": self.name, "args": list(self.args)}


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Everything understood from one message."""

    text: str
    intent: Intent
    postings: tuple[Posting, ...] = ()
    command: Command | None = None
    phones: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON shape printed by `farmer-mailbox parse`."""
        return {
            "text": self.text,
            "intent": self.intent,
            "postings": [p.to_json() for p in self.postings],
            "command": self.command.to_json() if self.command else None,
            "phones": list(self.phones),
        }


def _num(value: float | None) -> float | int | None:
    """Print whole numbers as integers (500, not 500.0) so JSON reads as farmers wrote it."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
