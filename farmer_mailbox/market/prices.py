"""The going price (JG): medians of recent asked and offered prices, with how many postings.

Prices are only comparable in one unit, so each summary uses the unit most postings used
(元/斤 for eggs, 元/株 for seedlings) and counts only those.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from farmer_mailbox.market.texts import number
from farmer_mailbox.wording import fragment


@dataclass(frozen=True, slots=True)
class PriceSummary:
    """The median of one side's prices in one unit, over `count` postings."""

    median: float
    unit: str
    count: int

    def text(self) -> str:
        """3.5元/株(12条)."""
        return f"{number(round(self.median, 2))}{self.unit}" + fragment("price.count", count=self.count)


def summarise(samples: Sequence[tuple[float, str]]) -> PriceSummary | None:
    """Median price in the most used unit; None when there is no price."""
    if not samples:
        return None
    unit = Counter(u for _, u in samples).most_common(1)[0][0]
    prices = [p for p, u in samples if u == unit and p > 0]
    if not prices:
        return None
    return PriceSummary(statistics.median(prices), unit, len(prices))


def area_part(area: str, sell: PriceSummary | None, buy: PriceSummary | None) -> str:
    """One area's prices: 本县卖价3.5元/株(12条)买价3元/株(4条); empty when nothing is known."""
    if sell is None and buy is None:
        return ""
    text = area
    if sell is not None:
        text += fragment("price.asked") + sell.text()
    if buy is not None:
        text += fragment("price.offered") + buy.text()
    return text
