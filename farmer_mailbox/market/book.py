"""The in-memory order book: the match index of open postings, kept in step with the database.

Built from the database at start. Changes made by this process are staged while a message is
handled and applied once its savepoint is released (so a later message in the same batch sees
them); a failed batch rebuilds the index from what was committed. Changes made elsewhere (a
liaison approving from the CLI) arrive through `sync`, which reads postings by their change
sequence number.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable

from farmer_mailbox.clock import from_db
from farmer_mailbox.market.texts import NEGOTIABLE
from farmer_mailbox.matching import DAILY, Families, IndexedPosting, MatchIndex, Recency
from farmer_mailbox.store import Reads
from farmer_mailbox.store.sql_market import PostingRow
from farmer_mailbox.text.lexicon import load_lexicon

log = logging.getLogger(__name__)
LOAD_BATCH = 50000


def lexicon_families() -> Families:
    """Product families from the lexicon's parent links (化肥 covers 尿素 and 复合肥)."""
    return Families.from_parents({p.name: p.parent for p in load_lexicon().products()})


def indexed(row: PostingRow) -> IndexedPosting:
    """What the index keeps of a stored posting.

    A seller's price is kept; a buyer's only when it is an explicit maximum (price_max: "4元以内",
    "最高3.5元"): a buyer's plain price ("3元一株") is shown, never used to filter sellers out.
    """
    return IndexedPosting(
        id=row.id, user_id=row.user_id, side="sell" if row.side == "sell" else "buy", product=row.product,
        region=row.region_code, created_at=row.created_at.timestamp(), base_quantity=row.base_quantity,
        price=row.price if row.side == "sell" else None,
        price_max=row.price_max if row.side == "buy" else None,
        price_unit=row.price_unit if row.price_unit != NEGOTIABLE else None,
    )


def _from_tuple(t: tuple[object, ...]) -> IndexedPosting:
    pid, user_id, side, product, region, created, base_qty, price, price_max, unit = t
    sell = side == "sell"
    return IndexedPosting(
        id=int(str(pid)), user_id=int(str(user_id)), side="sell" if sell else "buy", product=str(product),
        region=str(region), created_at=from_db(str(created)).timestamp(),
        base_quantity=float(str(base_qty)) if base_qty is not None else None,
        price=float(str(price)) if sell and price is not None else None,
        price_max=None if sell or price_max is None else float(str(price_max)),
        price_unit=str(unit) if unit is not None and unit != NEGOTIABLE else None,
    )


class Book:
    """The match index plus the staged changes of the message being handled."""

    def __init__(self, families: Families | None = None, recency: Recency = DAILY) -> None:
        self.families = families or lexicon_families()
        self.recency = recency
        self.index = MatchIndex(self.families, recency)
        self.seq = 0
        self._staged: list[IndexedPosting | int] = []  # a posting to add, or the id of one to remove

    async def rebuild(self, store: Reads) -> int:
        """Load every open posting from the database; return how many."""
        started = time.monotonic()
        seq = await store.last_posting_change()
        postings: list[IndexedPosting] = []
        after = 0
        while batch := await store.open_posting_tuples(after, LOAD_BATCH):
            postings.extend(_from_tuple(t) for t in batch)
            after = int(str(batch[-1][0]))
        self.index = MatchIndex.from_postings(self.families, postings, self.recency)
        self.seq = seq
        self._staged.clear()
        gc.freeze()  # a million long-lived postings: keep them out of the collector's way
        log.info("match index: %d open postings in %.1f s", len(postings), time.monotonic() - started)
        return len(postings)

    async def sync(self, store: Reads) -> int:
        """Apply postings changed in the database since the last look; return how many."""
        seen = 0
        while rows := await store.postings_changed_since(self.seq):
            self.apply_rows(rows)
            seen += len(rows)
        return seen

    def apply_rows(self, rows: Iterable[PostingRow]) -> None:
        """Index open postings and drop the others, in change order."""
        for row in rows:
            if row.status == "open":
                self.index.add(indexed(row))
            else:
                self.index.remove(row.id)
            self.seq = max(self.seq, row.changed)

    def stage_add(self, posting: IndexedPosting) -> None:
        """Index this posting once the current message commits."""
        self._staged.append(posting)

    def stage_remove(self, posting_id: int) -> None:
        """Drop this posting once the current message commits."""
        self._staged.append(posting_id)

    def apply_staged(self) -> None:
        """The message's savepoint was released: make its changes visible to the next ones."""
        for value in self._staged:
            if isinstance(value, IndexedPosting):
                self.index.add(value)
            else:
                self.index.remove(value)
        self._staged.clear()

    def discard_staged(self) -> None:
        """The message was rolled back: forget its changes."""
        self._staged.clear()
