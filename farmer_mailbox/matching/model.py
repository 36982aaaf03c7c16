"""The values the matching engine works on: an open posting as indexed, one match found, and how
coarsely recency is compared."""

from __future__ import annotations

import math
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


DAY_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class Recency:
    """How recency ranks: postings created in the same bucket (a local calendar day by default) are
    equally recent, so quantity fit decides between them.

    `offset` is the zone's offset east of UTC in seconds (28800 for Asia/Shanghai), so buckets
    start at local midnight; `seconds` is the bucket's length.
    """

    seconds: float = DAY_SECONDS
    offset: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.seconds) and self.seconds > 0 and math.isfinite(self.offset)):
            raise ValueError(f"recency bucket must be a positive number of seconds, got {self.seconds!r}")

    def bucket(self, created_at: float) -> int:
        """The bucket a creation time falls in; a larger bucket is more recent."""
        return math.floor((created_at + self.offset) / self.seconds)


DAILY = Recency()
"""Recency by UTC calendar day (the service passes its own zone's offset)."""
