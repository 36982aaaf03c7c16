"""New postings: store them, match them against the book at once, tell both sides.

The rule for one new posting (`matching.*` in config):
- every match the engine finds, best first, up to `max_matches_stored`, is stored; when there are
  more the farmer is shown "N+" (a hot product may have 200,000 sellers: nobody reads them all);
- the poster gets one reply: the posting number, how many matched, the best `list_size` numbered
  for LX (WD n lists the rest in the same order, under the same numbers);
- each stored counterparty is told once per pair of users and product, ever, in either direction:
  by SMS now when among the best `notify_limit` and within its `match_sms_per_day`, otherwise
  folded into its next digest ("您还有N条新匹配未逐条发送,回WD查看").
A message names at most MAX_PER_MESSAGE products; the farmer is told when more were left out.
Postings that moderation holds are stored as `pending` and matched when a liaison approves.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from farmer_mailbox.market.book import indexed
from farmer_mailbox.market.core import Market, described
from farmer_mailbox.market.moderation import hold_reason
from farmer_mailbox.market.texts import count_text, fit_list, what
from farmer_mailbox.matching import IndexedPosting, Match
from farmer_mailbox.models import User
from farmer_mailbox.replies import Reply
from farmer_mailbox.store import NewRecord, Tx
from farmer_mailbox.store.sql_market import FoundMatch, NewPosting, PostingRow
from farmer_mailbox.text.models import ParseResult, Posting
from farmer_mailbox.wording import fragment

MAX_PER_MESSAGE = 5      # products one message may post


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
        reply.say("posting_held", {"id": fragment("ref.sep").join(str(r.id) for r in rows), "reason": hold})
        return [r.id for r in rows]
    await announce(market, tx, reply, user, rows, capped=len(result.postings) > MAX_PER_MESSAGE)
    return [r.id for r in rows]


async def announce(market: Market, tx: Tx, reply: Reply, user: User, rows: list[PostingRow],
                   capped: bool = False) -> None:
    """Match open postings and queue the poster's reply and the counterparties' notices.

    `capped`: the message named more products than one message may post (the reply says so).
    """
    listed = [await match_and_notify(market, tx, reply, user, row) for row in rows]
    if len(rows) == 1 and not capped:
        await poster_reply(market, tx, reply, rows[0], listed[0])
        return
    items = [fragment("ref.posting", id=r.id) + what(described(r)) for r in rows]
    key = "posted_capped" if capped else "posted_many"
    params, _ = fit_list(key, {"count": str(len(rows))}, "items", items, market.signature)
    reply.say(key, params)


async def poster_reply(market: Market, tx: Tx, reply: Reply, row: PostingRow,
                       found: tuple[list[tuple[int, int]], str]) -> None:
    """The poster's one reply: the number, and the best matches with their LX numbers."""
    listed, count = found
    if not listed:
        reply.say("posted", {"what": what(described(row)), "id": row.id, "days": market.cfg.posting_days})
        return
    others = await tx.get_postings([posting_id for _, posting_id in listed])
    items = [f"{n}.{market.place(other.region_code)} {what(described(other), with_side=False)}"
             for n, posting_id in listed if (other := others.get(posting_id)) is not None]
    params, _ = fit_list("posted_matches", {"what": what(described(row)), "id": str(row.id), "count": count},
                         "items", items, market.signature)
    reply.say("posted_matches", params)


def find_matches(market: Market, query: IndexedPosting, bound: int) -> tuple[list[Match], bool]:
    """The best `bound` matches, and whether there are more (the replay's observer sees them all)."""
    found = market.book.index.iter_matches(query)
    if market.observer is not None:
        everything = list(found)
        market.observer(query.id, everything)
        return everything[:bound], len(everything) > bound
    head = list(islice(found, bound + 1))
    return head[:bound], len(head) > bound


async def match_and_notify(market: Market, tx: Tx, reply: Reply, poster: User,
                           row: PostingRow) -> tuple[list[tuple[int, int]], str]:
    """Match one open posting; store the matches, number the best for the poster, tell the others.

    Returns the poster's (number, other posting id) list, best first, and the match count as shown.
    """
    query = indexed(row)
    cfg = market.cfg
    stored, more = find_matches(market, query, max(cfg.max_matches_stored, cfg.list_size))
    market.book.stage_add(query)
    now = market.now()
    found = [FoundMatch(m.posting.id, m.posting.user_id, m.posting.product, m.distance) for m in stored]
    settled = await tx.settle_matches(row.id, row.side, poster.id, found, cfg.list_size, cfg.notify_limit,
                                      market.day(now), cfg.match_sms_per_day, now, more=more, product=row.product)
    if settled.notices:
        params = {"what": what(described(row)), "place": market.place(row.region_code)}
        for notice in settled.notices:
            reply.to(notice.phone, "match_notice", {**params, "n": notice.n}, user_id=notice.user_id,
                     purpose="match")
    return settled.poster_refs, count_text(len(stored), more)


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
    rows = await market.services.store.get_postings([m.posting.id for m in matches])
    items = [f"{market.place(row.region_code)} {what(described(row))}"
             for m in matches if (row := rows.get(m.posting.id)) is not None]
    params, _ = fit_list("query_results", {"product": wanted.product}, "items", items, market.signature)
    reply.say("query_results", params)
