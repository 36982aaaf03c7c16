"""What liaisons do with postings: list those waiting, approve them, hide any. All on record.

A liaison acts within the villages of their liaison point, an officer within their county, an
admin (and the CLI operator) anywhere. Approving opens the posting and matches it as if it had
just arrived; hiding takes it out of the book and tells the poster.
"""

from __future__ import annotations

import json
from datetime import datetime

from farmer_mailbox import wording
from farmer_mailbox.market.core import Market
from farmer_mailbox.market.posting import announce
from farmer_mailbox.replies import Reply
from farmer_mailbox.scoping import Actor, region_scope_error
from farmer_mailbox.store import NewRecord, Tx
from farmer_mailbox.store.base import subtree_bounds
from farmer_mailbox.store.sql_market import PostingRow
from farmer_mailbox.validation import ValidationError

STATUSES = ("pending", "open", "cancelled", "expired", "hidden")
STATUS_WORD = {status: wording.fragment(f"status.{status}") for status in STATUSES}


def _fail(code: str, **params: object) -> ValidationError:
    return ValidationError(code, wording.ERRORS[code].format(**params))


def _state_error(row: PostingRow, action: str) -> ValidationError:
    return _fail("posting.state", status=STATUS_WORD.get(row.status, row.status),
                 action=wording.fragment(f"action.{action}"))


def posting_json(row: PostingRow) -> dict[str, object]:
    """A posting as staff see it (CLI and API)."""
    return {
        "id": row.id, "user_id": row.user_id, "side": row.side, "product": row.product, "category": row.category,
        "quantity": row.quantity, "unit": row.unit, "price": row.price, "price_max": row.price_max,
        "price_unit": row.price_unit, "region_code": row.region_code, "status": row.status,
        "hold_reason": row.hold_reason, "text": row.text, "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }


async def _posting_in_scope(tx: Tx, actor: Actor, posting_id: int) -> PostingRow:
    row = await tx.get_posting(posting_id)
    if row is None:
        raise _fail("posting.not_found")
    author = await tx.get_user(row.user_id)
    error = region_scope_error(actor, author.village_code if author else row.region_code)
    if error:
        raise _fail(error)
    return row


def scope_bounds(actor: Actor) -> tuple[str, str]:
    """Region code range of the postings an actor may list (liaisons filter by village after)."""
    if actor.user is not None and actor.user.county_code and not actor.is_operator and actor.role.value == "officer":
        return subtree_bounds(actor.user.county_code, 6)
    return "", "~"


async def list_postings(market: Market, actor: Actor, status: str | None = "pending",
                        limit: int = 100) -> list[PostingRow]:
    """Postings an actor may moderate, oldest first."""
    if not actor.is_staff:
        raise _fail("scope.role")
    low, high = scope_bounds(actor)
    rows = await market.services.store.list_postings(status, low, high, limit=limit * 5)
    kept = []
    for row in rows:
        author = await market.services.store.get_user(row.user_id)
        if region_scope_error(actor, author.village_code if author else row.region_code) is None:
            kept.append(row)
    return kept[:limit]


async def approve(market: Market, actor: Actor, posting_id: int) -> PostingRow:
    """Open a held posting and match it now; the poster gets the usual reply."""
    now = market.now()
    try:
        opened = await _approve(market, actor, posting_id, now)
    except BaseException:
        market.book.discard_staged()
        raise
    market.book.apply_staged()
    market.outbox.wake()
    return opened


async def _approve(market: Market, actor: Actor, posting_id: int, now: datetime) -> PostingRow:
    async with market.services.store.transaction() as tx:
        row = await _posting_in_scope(tx, actor, posting_id)
        if row.status != "pending":
            raise _state_error(row, "approve")
        await tx.set_posting_status(row.id, "open", now)
        await _record(tx, market, actor, "posting_approved", row)
        opened = await tx.get_posting(row.id)
        poster = await tx.get_user(row.user_id)
        assert opened is not None and poster is not None
        reply = Reply(f"approve:{row.id}", poster.phone, "sms", poster)
        await announce(market, tx, reply, poster, [opened])
        await market.outbox.enqueue(tx, reply.messages)
    return opened


async def hide(market: Market, actor: Actor, posting_id: int, reason: str = "") -> PostingRow:
    """Take a posting down (pending or open); the poster is told."""
    now = market.now()
    async with market.services.store.transaction() as tx:
        row = await _posting_in_scope(tx, actor, posting_id)
        if row.status not in ("pending", "open"):
            raise _state_error(row, "hide")
        await tx.set_posting_status(row.id, "hidden", now, reason=reason or wording.fragment("reason.hidden"))
        await _record(tx, market, actor, "posting_hidden", row, reason)
        poster = await tx.get_user(row.user_id)
        if poster is not None:
            reply = Reply(f"hide:{row.id}", poster.phone, "sms", poster)
            reply.say("posting_hidden", {"id": row.id})
            await market.outbox.enqueue(tx, reply.messages)
        hidden = await tx.get_posting(row.id)
        assert hidden is not None
    market.book.index.remove(row.id)
    market.outbox.wake()
    return hidden


async def _record(tx: Tx, market: Market, actor: Actor, what: str, row: PostingRow, reason: str = "") -> None:
    await tx.append_record(NewRecord(
        kind="event", channel=actor.channel.value, at=market.now(), user_id=actor.user_id,
        text=f"{what} {row.id}", detail=json.dumps({"posting": row.id, "author": row.user_id, "reason": reason},
                                                   ensure_ascii=False)))
