"""New postings: store them, match them against the book at once, tell both sides.

The poster gets one reply: the posting number and, when counterparties exist, the best few
(numbered for LX). Each counterparty gets one notice, unless that pair was told before or the
counterparty's notices for the day are used up (then it is folded into the evening digest).
Postings that moderation holds are stored as `pending` and matched when a liaison approves.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from farmer_mailbox.market.book import indexed
from farmer_mailbox.market.core import Market, described
from farmer_mailbox.market.moderation import hold_reason
from farmer_mailbox.market.texts import fit_list, what
from farmer_mailbox.matching import IndexedPosting, Match
from farmer_mailbox.models import User
from farmer_mailbox.replies import Reply
from farmer_mailbox.store import NewRecord, Tx
from farmer_mailbox.store.sql_market import NewPosting, PostingRow
from farmer_mailbox.text.models import ParseResult, Posting

MAX_PER_MESSAGE = 5      # products one message may post
COUNT_CAP = 99           # "匹配99条" at most: counting further costs time and tells nothing more


def region_of(market: Market, posting: Posting, user: User) -> str:
    """Where the goods are: the place named in the message when it resolved, else the user's village."""
    loc = posting.location
    if loc is not None and loc.code and not loc.ambiguous and loc.code in market.services.tree:
        return loc.code
    return user.village_code


def new_posting(market: Market, posting: Posting, user: User, text: str, inbound_id: int | None,
                hold: str) -> NewPosting:
    """The row to store for one parsed posting."""
    now = market.now()
    return NewPosting(
        user_id=user.id, side=posting.side, product=posting.product, category=posting.category,
        region_code=region_of(market, posting, user), text=text, status="pending" if hold else "open",
        created_at=now, expires_at=now + timedelta(days=market.cfg.posting_days), quantity=posting.quantity,
        unit=posting.unit, base_quantity=posting.base_quantity, base_unit=posting.base_unit, price=posting.price,
        price_max=posting.price_max, price_unit=posting.price_unit, quality=posting.quality,
        inbound_id=inbound_id, hold_reason=hold,
    )


async def post(market: Market, tx: Tx, reply: Reply, user: User, result: ParseResult) -> list[int]:
    """Store the message's postings, match the open ones, queue the replies; return the new ids."""
    if not result.postings:
        reply.say("posting_no_product")
        return []
    hold = hold_reason(result.text, result.phones, user.phone, user.flagged)
    rows: list[PostingRow] = []
    for posting in result.postings[:MAX_PER_MESSAGE]:
        posting_id = await tx.insert_posting(new_posting(market, posting, user, result.text, reply.inbound_id, hold))
        row = await tx.get_posting(posting_id)
        assert row is not None
        rows.append(row)
    if hold:
        await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=market.now(), user_id=user.id,
                                         text=f"posting_held {','.join(str(r.id) for r in rows)}", detail=hold))
        reply.say("posting_held", {"id": "、".join(str(r.id) for r in rows), "reason": hold})
        return [r.id for r in rows]
    await announce(market, tx, reply, user, rows)
    return [r.id for r in rows]


async def announce(market: Market, tx: Tx, reply: Reply, user: User, rows: list[PostingRow]) -> None:
    """Match open postings and queue the poster's reply and the counterparties' notices."""
    listed = [await match_and_notify(market, tx, reply, user, row) for row in rows]
    if len(rows) == 1:
        await poster_reply(market, tx, reply, rows[0], listed[0])
        return
    items = [f"编号{r.id}{what(described(r))}" for r in rows]
    params, _ = fit_list("posted_many", {"count": str(len(rows))}, "items", items, market.signature)
    reply.say("posted_many", params)


async def poster_reply(market: Market, tx: Tx, reply: Reply, row: PostingRow,
                       found: tuple[list[tuple[int, IndexedPosting]], int]) -> None:
    """The poster's one reply: the number, and the best matches with their LX numbers."""
    listed, total = found
    if not listed:
        reply.say("posted", {"what": what(described(row)), "id": row.id, "days": market.cfg.posting_days})
        return
    items = []
    for n, other in listed:
        other_row = await tx.get_posting(other.id)
        if other_row is not None:
            items.append(f"{n}.{market.place(other_row.region_code)} {what(described(other_row), with_side=False)}")
    params, _ = fit_list("posted_matches", {"what": what(described(row)), "id": str(row.id),
                                            "count": str(total)}, "items", items, market.signature)
    reply.say("posted_matches", params)


def find_matches(market: Market, query: IndexedPosting, limit: int) -> tuple[list[Match], int]:
    """The best `limit` matches and how many there are (counted up to COUNT_CAP)."""
    found = market.book.index.iter_matches(query)
    if market.observer is not None:
        everything = list(found)
        market.observer(query.id, everything)
        return everything[:limit], min(len(everything), COUNT_CAP)
    head = list(islice(found, max(limit, COUNT_CAP)))
    return head[:limit], len(head)


async def match_and_notify(market: Market, tx: Tx, reply: Reply, poster: User,
                           row: PostingRow) -> tuple[list[tuple[int, IndexedPosting]], int]:
    """Match one open posting; store the matches, number the best for the poster, tell the others."""
    query = indexed(row)
    top, total = find_matches(market, query, max(market.cfg.notify_limit, market.cfg.list_size))
    market.book.stage_add(query)
    now = market.now()
    listed: list[tuple[int, IndexedPosting]] = []
    for rank, match in enumerate(top):
        other = match.posting
        buy_id, sell_id = (row.id, other.id) if row.side == "buy" else (other.id, row.id)
        match_id = await tx.insert_match(buy_id, sell_id, match.distance, now)
        if rank < market.cfg.list_size:
            listed.append((await tx.ref_for(poster.id, match_id, now), other))
        if rank < market.cfg.notify_limit:
            await notify(market, tx, reply, other, row, match_id)
    return listed, total


async def notify(market: Market, tx: Tx, reply: Reply, other: IndexedPosting, new: PostingRow,
                 match_id: int) -> None:
    """Tell the author of `other` about the new posting: once per pair, within the daily cap."""
    user = await market.active_user(tx, other.user_id)
    if user is None:
        return
    now = market.now()
    day = market.day(now)
    within_cap = await tx.notices_sent(user.id, day) < market.cfg.match_sms_per_day
    if not await tx.record_notice(user.id, new.user_id, other.product, match_id, day, within_cap):
        return  # this pair was told before
    if not within_cap:
        return  # folded into the evening digest
    n = await tx.ref_for(user.id, match_id, now)
    reply.to(user.phone, "match_notice", {"what": what(described(new)), "place": market.place(new.region_code),
                                          "n": n}, user_id=user.id, purpose="match")


async def query(market: Market, reply: Reply, user: User, result: ParseResult) -> None:
    """"哪里有卖葡萄苗": show what is on offer without registering anything."""
    if not result.postings:
        reply.say("posting_no_product")
        return
    wanted = result.postings[0]
    probe = IndexedPosting(id=-1, user_id=user.id, side=wanted.side, product=wanted.product,
                           region=region_of(market, wanted, user), created_at=market.now().timestamp())
    matches = list(islice(market.book.index.iter_matches(probe), market.cfg.list_size * 3))
    if not matches:
        reply.say("query_none", {"product": wanted.product})
        return
    items = []
    for m in matches:
        row = await market.services.store.get_posting(m.posting.id)
        if row is not None:
            items.append(f"{market.place(row.region_code)} {what(described(row))}")
    params, _ = fit_list("query_results", {"product": wanted.product}, "items", items, market.signature)
    reply.say("query_results", params)
