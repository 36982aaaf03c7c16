"""A farmer's own postings: WD (list; WD n lists a posting's matches), CX n (cancel), XQ n (renew),
and JG product (the going price around them).

Match counts are the same everywhere: the stored matches whose other posting is still open (what
WD n can list), with "+" when the engine found more than it stored. WD n lists them in the order
of the poster's reply (distance, day, quantity fit, ...) under the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from farmer_mailbox.market.book import indexed
from farmer_mailbox.market.core import Market, described
from farmer_mailbox.market.prices import area_part, summarise
from farmer_mailbox.market.texts import count_text, fit_list, posting_refs, what
from farmer_mailbox.matching import rank_key
from farmer_mailbox.models import User
from farmer_mailbox.replies import Reply
from farmer_mailbox.store import NewRecord, Reads, Tx
from farmer_mailbox.store.base import subtree_bounds
from farmer_mailbox.store.sql_market import MatchRow, PostingRow
from farmer_mailbox.wording import fragment

AREAS = (("area.county", 6), ("area.city", 4))
NUMBERED = 12      # matches given numbers for one WD n reply: more never fit two segments


async def mine(market: Market, tx: Tx, reply: Reply, user: User, number: str | None) -> None:
    """WD: the user's live postings with match counts; WD n: the matches of posting n."""
    if number:
        await posting_matches(market, tx, reply, user, number)
        return
    rows = await tx.postings_of(user.id)
    if not rows:
        reply.say("mine_empty")
        return
    counts = await tx.match_counts([r.id for r in rows])
    items = [f"{r.id}{what(described(r))}({_state(r, counts[r.id])})" for r in rows]
    params, _ = fit_list("mine_list", {}, "items", items, market.signature)
    reply.say("mine_list", params)


def _state(row: PostingRow, count: int) -> str:
    """待审核, or how many matches: 3条匹配, 50+条匹配."""
    if row.status == "pending":
        return fragment("mine.pending")
    return fragment("mine.matches", count=count_text(count, row.more_matches))


def ranked_partners(row: PostingRow, partners: list[tuple[MatchRow, PostingRow]],
                    market: Market) -> list[tuple[MatchRow, PostingRow]]:
    """A posting's open matches in the engine's order (the order of the poster's reply)."""
    query, recency = indexed(row), market.book.index.recency
    return sorted(partners, key=lambda pair: rank_key(query, indexed(pair[1]), recency))


async def posting_matches(market: Market, tx: Tx, reply: Reply, user: User, number: str) -> None:
    """WD n: the open counterparties of one of the user's postings, best first, numbered for LX."""
    row = await market.own_posting(tx, user, number)
    if row is None:
        reply.say("posting_not_found", {"id": number})
        return
    partners = ranked_partners(row, await tx.open_partners(row.id, row.side), market)
    if not partners:
        reply.say("mine_no_matches", {"id": row.id})
        return
    shown = partners[:NUMBERED]
    refs = await tx.refs_for(user.id, [m.id for m, _ in shown], market.now())
    items = [f"{refs[m.id]}.{market.place(other.region_code)} {what(described(other), with_side=False)}"
             for m, other in shown]
    more = fragment("list.more_plus" if row.more_matches else "list.more", n="{n}")
    params, _ = fit_list("mine_matches", {"id": str(row.id)}, "items", items, market.signature, more=more,
                         extra=len(partners) - len(shown))
    reply.say("mine_matches", params)


async def cancel(market: Market, tx: Tx, reply: Reply, user: User, numbers: Sequence[str]) -> None:
    """CX n [m ...]: withdraw one or several of the user's live postings."""
    if not numbers:
        reply.say("cancel_usage")
        return
    done: list[PostingRow] = []
    missing: list[str] = []
    for number in dict.fromkeys(numbers):   # each number once, in the order given
        row = await market.own_posting(tx, user, number)
        if row is None or row.status not in ("open", "pending"):
            missing.append(number)
            continue
        await _withdraw(market, tx, reply, user, row)
        done.append(row)
    if len(done) == 1 and not missing:
        reply.say("cancelled", {"id": done[0].id, "what": what(described(done[0]))})
    elif not done:
        reply.say("posting_not_found", {"id": fragment("ref.sep").join(missing)})
    else:
        gone = fragment("cancel.missing", ids=fragment("ref.sep").join(missing)) if missing else ""
        reply.say("cancelled_many", {"ids": posting_refs([r.id for r in done]), "missing": gone})


async def _withdraw(market: Market, tx: Tx, reply: Reply, user: User, row: PostingRow) -> None:
    """Mark one posting cancelled, take it out of the book, and put it on the record."""
    now = market.now()
    await tx.set_posting_status(row.id, "cancelled", now, reason=fragment("reason.cancelled"))
    market.book.stage_remove(row.id)
    await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=now, user_id=user.id,
                                     text=f"posting_cancelled {row.id}"))


async def renew(market: Market, tx: Tx, reply: Reply, user: User, number: str | None) -> None:
    """XQ n: keep a posting open another term; XQ alone renews every posting that was reminded."""
    live = await tx.postings_of(user.id, ("open",))
    rows = [r for r in live if (str(r.id) == number if number else r.reminded_at is not None)]
    if not rows:
        reply.say("renew_none")
        return
    now = market.now()
    until = now + timedelta(days=market.cfg.posting_days)
    for row in rows:
        await tx.renew_posting(row.id, until)
    await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=now, user_id=user.id,
                                     text="posting_renewed", detail=json.dumps([r.id for r in rows])))
    reply.say("renewed", {"ids": posting_refs([r.id for r in rows]), "date": market.date_text(until)})


async def prices(market: Market, reads: Reads, reply: Reply, user: User, products: tuple[str, ...]) -> None:
    """JG product: median asked and offered prices in the user's county and city, with counts."""
    if not products:
        reply.say("price_usage")
        return
    product = products[0]
    since = market.now() - timedelta(days=market.cfg.price_days)
    widest = subtree_bounds(user.village_code, min(digits for _, digits in AREAS))
    samples = await reads.price_samples(product, *widest, since)   # one scan, sorted into the areas in one pass
    areas: list[tuple[tuple[str, str], dict[str, list[tuple[float, str]]]]] = [
        (subtree_bounds(user.village_code, digits), {"sell": [], "buy": []}) for _, digits in AREAS]
    for side, region, price, unit in samples:
        for (low, high), sides in areas:
            if low <= region < high:
                sides[side].append((price, unit))
    parts = []
    for (label, _), (_, sides) in zip(AREAS, areas, strict=True):
        part = area_part(fragment(label), summarise(sides["sell"]), summarise(sides["buy"]))
        if part:
            parts.append(part)
    if not parts:
        reply.say("price_none", {"days": market.cfg.price_days, "product": product})
        return
    params, _ = fit_list("price_report", {"product": product, "days": str(market.cfg.price_days)}, "parts",
                         parts, market.signature, more="")
    reply.say("price_report", params)
