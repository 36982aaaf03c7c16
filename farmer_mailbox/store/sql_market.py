"""SQL for the marketplace, assembled from modules with one job each.

`sql_postings` (postings and their states), `sql_matches` (matches and the numbers users see),
`sql_notices` (who was told, caps, digests), `sql_settle` (storing a new posting's matches),
`sql_contact` (contact requests); the stored shapes are in `market_rows`. The store classes
mix in `MarketReads` and `MarketWrites`; the shapes are re-exported here for their users.
"""

from __future__ import annotations

from farmer_mailbox.store.market_rows import (
    LIVE,
    ContactRequest,
    FoundMatch,
    MatchRow,
    NewPosting,
    Notice,
    PostingRow,
    SettledMatches,
)
from farmer_mailbox.store.sql_contact import ContactReads, ContactWrites
from farmer_mailbox.store.sql_matches import MatchReads
from farmer_mailbox.store.sql_notices import NoticeReads
from farmer_mailbox.store.sql_postings import PostingReads, PostingWrites
from farmer_mailbox.store.sql_settle import SettleWrites


class MarketReads(PostingReads, MatchReads, NoticeReads, ContactReads):
    """Queries over postings, matches, notices and contact requests."""


class MarketWrites(PostingWrites, SettleWrites, ContactWrites):
    """Changes to postings and the conversation around matches."""


__all__ = [
    "LIVE",
    "ContactRequest",
    "FoundMatch",
    "MarketReads",
    "MarketWrites",
    "MatchRow",
    "NewPosting",
    "Notice",
    "PostingRow",
    "SettledMatches",
]
