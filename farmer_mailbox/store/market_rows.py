"""The marketplace's stored shapes: postings, matches, notices and contact requests, and the row
readers that build them (shared by the market's SQL modules)."""

from __future__ import annotations

import json
from collections.abc import Sized
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from farmer_mailbox.clock import from_db

NEXT_CHANGE = "(SELECT IFNULL(MAX(changed), 0) + 1 FROM postings)"
LIVE = ("pending", "open")
POSTING_COLUMNS = (
    "id, user_id, side, product, category, region_code, text, status, created_at, expires_at, quantity, unit, "
    "base_quantity, base_unit, price, price_max, price_unit, quality, inbound_id, hold_reason, reminded_at, changed, "
    "more_matches"
)


@dataclass(frozen=True, slots=True)
class NewPosting:
    """A posting to store, as understood from one message."""

    user_id: int
    side: str
    product: str
    category: str
    region_code: str
    text: str
    status: str
    created_at: datetime
    expires_at: datetime
    quantity: float | None = None
    unit: str | None = None
    base_quantity: float | None = None
    base_unit: str | None = None
    price: float | None = None
    price_max: float | None = None
    price_unit: str | None = None
    quality: tuple[str, ...] = ()
    inbound_id: int | None = None
    hold_reason: str = ""


@dataclass(frozen=True, slots=True)
class PostingRow:
    """A stored posting. `more_matches`: the engine found more matches than were stored."""

    id: int
    user_id: int
    side: str
    product: str
    category: str
    region_code: str
    text: str
    status: str
    created_at: datetime
    expires_at: datetime
    quantity: float | None
    unit: str | None
    base_quantity: float | None
    base_unit: str | None
    price: float | None
    price_max: float | None
    price_unit: str | None
    quality: tuple[str, ...]
    inbound_id: int | None
    hold_reason: str
    reminded_at: datetime | None
    changed: int
    more_matches: bool = False


@dataclass(frozen=True, slots=True)
class MatchRow:
    """A match between a buy and a sell posting."""

    id: int
    buy_id: int
    sell_id: int
    distance: int


@dataclass(frozen=True, slots=True)
class FoundMatch:
    """A counterparty posting found for a new posting, as the engine ranked it."""

    posting_id: int
    user_id: int
    product: str
    distance: int


@dataclass(frozen=True, slots=True)
class Notice:
    """A counterparty to tell about a new posting, with the number they will see for the match."""

    user_id: int
    phone: str
    posting_id: int
    n: int


@dataclass(frozen=True, slots=True)
class SettledMatches:
    """What storing a new posting's matches decided: the poster's numbers and who to tell now."""

    poster_refs: list[tuple[int, int]]      # (n, other posting id), best first
    notices: list[Notice]                   # told by SMS now; the other counterparties were folded


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """One side asked for the other's number (consent mode)."""

    id: int
    match_id: int
    requester_id: int
    owner_id: int
    status: str


def posting_of(row: aiosqlite.Row) -> PostingRow:
    """A PostingRow from a row selected with POSTING_COLUMNS."""
    return PostingRow(
        id=row["id"], user_id=row["user_id"], side=row["side"], product=row["product"], category=row["category"],
        region_code=row["region_code"], text=row["text"], status=row["status"],
        created_at=from_db(row["created_at"]), expires_at=from_db(row["expires_at"]),
        quantity=row["quantity"], unit=row["unit"], base_quantity=row["base_quantity"], base_unit=row["base_unit"],
        price=row["price"], price_max=row["price_max"], price_unit=row["price_unit"],
        quality=tuple(json.loads(row["quality"])), inbound_id=row["inbound_id"], hold_reason=row["hold_reason"],
        reminded_at=from_db(row["reminded_at"]) if row["reminded_at"] else None, changed=row["changed"],
        more_matches=bool(row["more_matches"]),
    )


def match_of(row: aiosqlite.Row) -> MatchRow:
    """A MatchRow from a row with id, buy_id, sell_id and distance."""
    return MatchRow(id=row["id"], buy_id=row["buy_id"], sell_id=row["sell_id"], distance=row["distance"])


def request_of(row: aiosqlite.Row) -> ContactRequest:
    """A ContactRequest from a contact_requests row."""
    return ContactRequest(id=row["id"], match_id=row["match_id"], requester_id=row["requester_id"],
                          owner_id=row["owner_id"], status=row["status"])


def marks(values: Sized) -> str:
    """Placeholders for an IN list of len(values) values."""
    return ",".join("?" * len(values))
