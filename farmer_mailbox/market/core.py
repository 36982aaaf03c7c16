"""The marketplace's shared state and helpers: the book, settings, places and dates for messages.

The conversation hands postings and market commands to `Market`; the work is done in the
modules `posting` (new postings, matching, notices), `contact` (LX, Y, N, HF), `mine` (WD, CX,
XQ, JG), `upkeep` (expiry, reminders, digests) and `staff` (approve, hide).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from farmer_mailbox.market.book import Book
from farmer_mailbox.market.texts import Described
from farmer_mailbox.matching import Match, Recency
from farmer_mailbox.models import User, UserStatus
from farmer_mailbox.store import Reads
from farmer_mailbox.store.sql_market import MatchRow, PostingRow
from farmer_mailbox.wording import fragment

if TYPE_CHECKING:
    from farmer_mailbox.outbox import Outbox
    from farmer_mailbox.services import Services

# Called with a new posting's id and every match the engine found for it (the replay tool).
MatchObserver = Callable[[int, list[Match]], None]


def local_days(zone: ZoneInfo, now: datetime) -> Recency:
    """Recency by calendar day in the service's zone (its offset now: days start at local midnight)."""
    offset = now.astimezone(zone).utcoffset()
    return Recency(offset=offset.total_seconds() if offset is not None else 0.0)


def described(row: PostingRow) -> Described:
    """The describable part of a stored posting."""
    return Described(side=row.side, product=row.product, quantity=row.quantity, unit=row.unit,
                     price=row.price, price_max=row.price_max, price_unit=row.price_unit)


class Market:
    """Postings and the conversation around matches."""

    def __init__(self, services: Services, outbox: Outbox, book: Book | None = None) -> None:
        self.services = services
        self.outbox = outbox
        config = services.config
        self.cfg = config.matching
        self.signature = config.sms.signature
        self.zone = ZoneInfo(config.service.timezone)
        self.book = book or Book(recency=local_days(self.zone, services.clock.now()))
        self.observer: MatchObserver | None = None

    def now(self) -> datetime:
        """The service clock's time."""
        return self.services.clock.now()

    def day(self, when: datetime) -> str:
        """The local calendar day (caps are per local day)."""
        return when.astimezone(self.zone).date().isoformat()

    def date_text(self, when: datetime) -> str:
        """A date as farmers read it: 12月31日."""
        local = when.astimezone(self.zone)
        return fragment("date", month=local.month, day=local.day)

    def place(self, code: str) -> str:
        """Where a posting is, for a message: 横河镇子陵村 (or the county when no town is known)."""
        tree = self.services.tree
        name = tree.display(code)
        if name:
            return name
        region = tree.get(code)
        return region.name if region else ""

    async def active_user(self, reads: Reads, user_id: int) -> User | None:
        """The user if they can be told things (active), else None."""
        user = await reads.get_user(user_id)
        return user if user is not None and user.status is UserStatus.ACTIVE else None

    async def own_posting(self, reads: Reads, user: User, number: str | None) -> PostingRow | None:
        """The user's own posting with this number, if any."""
        if not number or not number.isdigit():
            return None
        row = await reads.get_posting(int(number))
        return row if row is not None and row.user_id == user.id else None

    async def sides(self, reads: Reads, match: MatchRow, user: User) -> tuple[PostingRow, PostingRow] | None:
        """(the user's posting, the other one) of a match, or None if the user is in neither."""
        buy, sell = await reads.get_posting(match.buy_id), await reads.get_posting(match.sell_id)
        if buy is None or sell is None:
            return None
        if buy.user_id == user.id:
            return buy, sell
        if sell.user_id == user.id:
            return sell, buy
        return None
