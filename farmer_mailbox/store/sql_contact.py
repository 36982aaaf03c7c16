"""SQL for contact requests: one side asked for the other's number over a match (consent mode)."""

from __future__ import annotations

from datetime import datetime

from farmer_mailbox.clock import to_db
from farmer_mailbox.store.base import SqlBase
from farmer_mailbox.store.market_rows import ContactRequest, request_of


class ContactReads(SqlBase):
    """Queries over contact requests."""

    async def contact_request(self, match_id: int, requester_id: int) -> ContactRequest | None:
        """The contact request of a requester for a match, if any."""
        row = await self._one("SELECT * FROM contact_requests WHERE match_id = ? AND requester_id = ?",
                              (match_id, requester_id))
        return request_of(row) if row else None

    async def shared_between(self, match_id: int) -> bool:
        """True when numbers were already exchanged for a match (either side asked and it was accepted)."""
        return bool(await self._value(
            "SELECT 1 FROM contact_requests WHERE match_id = ? AND status = 'accepted'", (match_id,)))

    async def pending_requests(self, owner_id: int) -> list[ContactRequest]:
        """Contact requests waiting for a user's answer, newest first."""
        rows = await self._all(
            "SELECT * FROM contact_requests WHERE owner_id = ? AND status = 'pending' ORDER BY id DESC", (owner_id,))
        return [request_of(r) for r in rows]


class ContactWrites(SqlBase):
    """Asking for and answering contact requests."""

    async def insert_contact_request(self, match_id: int, requester_id: int, owner_id: int, at: datetime,
                                     status: str = "pending") -> int:
        """Store a contact request (pending, or accepted at once in direct mode); return its id."""
        return await self._insert(
            "INSERT INTO contact_requests (match_id, requester_id, owner_id, status, created_at, answered_at) "
            "VALUES (?,?,?,?,?,?)",
            (match_id, requester_id, owner_id, status, to_db(at), None if status == "pending" else to_db(at)))

    async def answer_contact_request(self, request_id: int, accepted: bool, at: datetime) -> None:
        """Accept or decline a contact request."""
        await self._exec("UPDATE contact_requests SET status = ?, answered_at = ? WHERE id = ?",
                         ("accepted" if accepted else "declined", to_db(at), request_id))
