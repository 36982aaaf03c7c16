"""The values the matching engine works on: an open posting as indexed, and one match found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["sell", "buy"]
SIDES: tuple[Side, Side] = ("sell", "buy")


@dataclass(frozen=True, slots=True)
class IndexedPosting:
    """What matching needs of one open posting; quantities in base units, prices per `price_unit`.

    `region` is a 12-digit 统计用区划代码, zero-padded when the village or town is unknown.
    `price` is a seller's asking price; `price_max` a buyer's ceiling (both may be None).
    """

    id: int
    user_id: int
    side: Side
    product: str
    region: str
    created_at: float
    base_quantity: float | None = None
    price: float | None = None
    price_max: float | None = None
    price_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A counterparty posting with how far away it is and how well its quantity fits."""

    posting: IndexedPosting
    distance: int
    quantity_fit: float | None


def other_side(side: Side) -> Side:
    """The side a posting looks for: sellers for a buy posting, buyers for a sell posting."""
    return "buy" if side == "sell" else "sell"
