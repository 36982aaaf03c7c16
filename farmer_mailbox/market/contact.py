"""Getting in touch over a match: LX n (contact), Y n / N n (consent), HF n (relay a message).

`n` is the number the user was shown for the match. In `direct` privacy mode LX n gives both
sides each other's number at once. In `consent` mode (the default) the other side is asked first
and only Y reveals the numbers, each to the other. HF relays a short message (one SMS: a longer
one is clipped and the sender told) without showing any number; a relay carrying a web address or
a number other than the sender's own is refused. LX and HF work only while both postings of the
match are open (not cancelled, expired or hidden). Every exchange is on the message record.
"""

from __future__ import annotations

import json

from farmer_mailbox.market.core import Market, described
from farmer_mailbox.market.moderation import relay_refused
from farmer_mailbox.market.texts import clip, what
from farmer_mailbox.models import User
from farmer_mailbox.replies import Reply
from farmer_mailbox.store import NewRecord, Tx
from farmer_mailbox.store.sql_market import ContactRequest, MatchRow, PostingRow


async def _resolve(market: Market, tx: Tx, reply: Reply, user: User,
                   number: str | None) -> tuple[MatchRow, PostingRow, PostingRow, User] | None:
    """The match behind "n", the user's and the other posting, and the other user; replies when not found."""
    if not number or not number.isdigit():
        reply.say("ref_usage")
        return None
    match = await tx.match_by_ref(user.id, int(number))
    pair = await market.sides(tx, match, user) if match is not None else None
    if match is None or pair is None:
        reply.say("ref_unknown", {"n": number})
        return None
    mine, theirs = pair
    if mine.status != "open" or theirs.status != "open":
        reply.say("ref_closed", {"n": number})
        return None
    other = await market.active_user(tx, theirs.user_id)
    if other is None:
        reply.say("contact_unavailable")
        return None
    return match, mine, theirs, other


async def contact(market: Market, tx: Tx, reply: Reply, user: User, number: str | None) -> None:
    """LX n: share numbers (direct), or ask the other side's consent (consent)."""
    found = await _resolve(market, tx, reply, user, number)
    if found is None:
        return
    match, mine, theirs, other = found
    now = market.now()
    asked_me = await tx.contact_request(match.id, other.id)
    if market.cfg.privacy_mode == "direct" or await tx.shared_between(match.id):
        if not await tx.shared_between(match.id):
            await tx.insert_contact_request(match.id, user.id, other.id, now, status="accepted")
        await share(market, tx, reply, match, (user, mine), (other, theirs))
        return
    if asked_me is not None and asked_me.status == "pending":
        await _answer(market, tx, reply, asked_me, user, accepted=True)  # both want it: that is consent
        return
    mine_req = await tx.contact_request(match.id, user.id)
    if mine_req is not None:
        key = "contact_pending" if mine_req.status == "pending" else "contact_declined"
        reply.say(key, {"n": number or ""})
        return
    await tx.insert_contact_request(match.id, user.id, other.id, now)
    their_n = await tx.ref_for(other.id, match.id, now)
    reply.to(other.phone, "contact_request", {"what": what(described(mine)), "place": market.place(mine.region_code),
                                              "n": their_n}, user_id=other.id, purpose="match")
    await _record(market, tx, reply, user, "contact_requested", match)
    reply.say("contact_asked", {"n": number or ""})


async def share(market: Market, tx: Tx, reply: Reply, match: MatchRow, a: tuple[User, PostingRow],
                b: tuple[User, PostingRow]) -> None:
    """Give each side the other's name, place and number (a is the sender of this message)."""
    (user_a, posting_a), (user_b, posting_b) = a, b
    reply.say("contact_shared", _card(market, user_b, posting_b))
    reply.to(user_b.phone, "contact_shared", _card(market, user_a, posting_a), user_id=user_b.id, purpose="match")
    await _record(market, tx, reply, user_a, "contact_shared", match, other=user_b.id)


def _card(market: Market, user: User, posting: PostingRow) -> dict[str, str]:
    return {"name": user.name, "place": market.place(posting.region_code), "phone": user.phone,
            "what": what(described(posting))}


async def answer(market: Market, tx: Tx, reply: Reply, user: User, number: str | None, accepted: bool) -> None:
    """Y n / N n: answer a contact request (without n: the newest one waiting)."""
    waiting = await tx.pending_requests(user.id)
    if number and number.isdigit():
        match = await tx.match_by_ref(user.id, int(number))
        waiting = [r for r in waiting if match is not None and r.match_id == match.id]
    if not waiting:
        reply.say("contact_none_pending")
        return
    await _answer(market, tx, reply, waiting[0], user, accepted)


async def _answer(market: Market, tx: Tx, reply: Reply, request: ContactRequest, owner: User,
                  accepted: bool) -> None:
    now = market.now()
    match = await tx.get_match(request.match_id)
    requester = await market.active_user(tx, request.requester_id)
    pair = await market.sides(tx, match, owner) if match is not None else None
    if match is None or pair is None or requester is None:
        await tx.answer_contact_request(request.id, False, now)
        reply.say("contact_unavailable")
        return
    await tx.answer_contact_request(request.id, accepted, now)
    mine, theirs = pair
    if accepted:
        await share(market, tx, reply, match, (owner, mine), (requester, theirs))
        return
    their_n = await tx.ref_for(requester.id, match.id, now)
    reply.to(requester.phone, "contact_declined", {"n": their_n}, user_id=requester.id, purpose="match")
    await _record(market, tx, reply, owner, "contact_declined", match)
    reply.say("contact_decline_ok")


async def relay(market: Market, tx: Tx, reply: Reply, user: User, number: str | None, text: str) -> None:
    """HF n text: pass a short message to the other side of a match, no number shown."""
    message = text.strip()
    if not message:
        reply.say("ref_usage")
        return
    found = await _resolve(market, tx, reply, user, number)
    if found is None:
        return
    match, _mine, _theirs, other = found
    if relay_refused(message, user.phone):
        await _record(market, tx, reply, user, "relay_refused", match, other=other.id)
        reply.say("relay_refused")
        return
    their_n = await tx.ref_for(other.id, match.id, market.now())
    params = clip("relay", {"n": str(their_n), "message": message}, "message", market.signature)
    reply.to(other.phone, "relay", params, user_id=other.id, purpose="match")
    await _record(market, tx, reply, user, "relay", match, other=other.id)
    if params["message"] == message:
        reply.say("relay_sent")
    else:
        reply.say("relay_clipped", {"kept": len(params["message"]) - 1})


async def _record(market: Market, tx: Tx, reply: Reply, user: User, what_happened: str, match: MatchRow,
                  other: int | None = None) -> None:
    detail = {"match": match.id, "buy": match.buy_id, "sell": match.sell_id}
    if other is not None:
        detail["other_user"] = other
    await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=market.now(), user_id=user.id,
                                     text=what_happened, detail=json.dumps(detail)))
