"""Matching supply with demand: canonical products, region distance, recency (by day), quantity fit.

Pure logic, no I/O. `MatchIndex` keeps the open postings in memory (rebuilt from storage at start,
updated as postings open and close) and answers, for a new posting, its counterparties best
first. The rules live in the module docstrings: `families` (which products match),
`regions_code` (distance between region codes), `ranking` (filter and order), `index` (how the
walk finds the best without scanning).
"""

from .families import Families
from .index import MatchIndex
from .model import DAILY, DAY_SECONDS, IndexedPosting, Match, Recency, Side, other_side
from .ranking import (
    fit_key,
    is_counterparty,
    price_acceptable,
    quantity_fit,
    rank_all,
    rank_key,
)
from .regions_code import LEVELS, padded, region_depth, region_distance, region_prefixes

__all__ = [
    "DAILY",
    "DAY_SECONDS",
    "LEVELS",
    "Families",
    "IndexedPosting",
    "Match",
    "MatchIndex",
    "Recency",
    "Side",
    "fit_key",
    "is_counterparty",
    "other_side",
    "padded",
    "price_acceptable",
    "quantity_fit",
    "rank_all",
    "rank_key",
    "region_depth",
    "region_distance",
    "region_prefixes",
]
