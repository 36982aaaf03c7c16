"""The tamper-evident message record: how entries are hashed and how the chain is verified.

Each entry's hash covers its own fields and the previous entry's hash, so editing any stored
entry, deleting one, or inserting one out of turn breaks the chain from that point on. Deleting
the last entries leaves an intact but shorter chain: the store therefore anchors the head (last
id and hash) in a row of its own, moved on with every append, and verification compares the
chain's end with it. Pure functions; the store appends, `verify_chain` checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterable, Iterable, Sequence
from dataclasses import dataclass

GENESIS = "0" * 64
HASHED_FIELDS = (
    "id", "at", "kind", "channel", "user_id", "address", "text", "gateway", "external_id", "detail",
)


# json.dumps with options builds an encoder per call; the record hashes a dozen entries per message.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def entry_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """Hash one entry's fields (in HASHED_FIELDS order) chained to the previous hash."""
    return values_hash(prev_hash, [fields[name] for name in HASHED_FIELDS])


def values_hash(prev_hash: str, values: Sequence[object]) -> str:
    """`entry_hash` of an entry whose fields are given as values, in HASHED_FIELDS order."""
    payload = _COMPACT.encode(values)
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of verifying the record: how many entries, and the first broken one."""

    entries: int
    first_broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when every entry checks out."""
        return self.first_broken is None


class ChainVerifier:
    """Checks entries one at a time, in id order, remembering the first break."""

    def __init__(self) -> None:
        self.prev_hash, self.prev_id, self.count = GENESIS, 0, 0
        self.broken: ChainReport | None = None

    def feed(self, row: dict[str, object]) -> bool:
        """Check the next entry; return False once the chain is broken."""
        if self.broken:
            return False
        self.count += 1
        entry_id = int(str(row["id"]))
        reason = ""
        if entry_id != self.prev_id + 1:
            reason = f"entry {self.prev_id + 1} is missing (next id is {entry_id})"
        elif row["prev_hash"] != self.prev_hash:
            reason = "its link to the previous entry does not match"
        elif entry_hash(self.prev_hash, row) != row["hash"]:
            reason = "its content does not match its hash (edited)"
        if reason:
            self.broken = ChainReport(self.count, entry_id, reason)
            return False
        self.prev_hash, self.prev_id = str(row["hash"]), entry_id
        return True

    def report(self) -> ChainReport:
        """The outcome so far."""
        return self.broken or ChainReport(self.count)


def verify_chain(rows: Iterable[dict[str, object]]) -> ChainReport:
    """Walk entries in id order; name the first entry whose id, link or hash does not fit."""
    verifier = ChainVerifier()
    for row in rows:
        if not verifier.feed(row):
            break
    return verifier.report()


Head = tuple[int, str]
NO_ANCHOR = (-1, "")   # verify_rows without a head anchor to compare (plain chains, tests)


def _tail_problem(last: Head, anchor: Head | None) -> tuple[int, str] | None:
    """The first broken entry and why, comparing the chain's end (id, hash) with the anchored head."""
    if anchor == NO_ANCHOR:
        return None
    if anchor is None:
        return last[0] + 1, "the record's head anchor is missing (removed by hand)"
    if anchor[0] > last[0]:
        gone = f"entry {last[0] + 1}" if anchor[0] == last[0] + 1 else f"entries {last[0] + 1}-{anchor[0]}"
        return last[0] + 1, f"{gone} missing: the record ended at entry {anchor[0]} (deleted at the end)"
    if anchor[0] < last[0]:
        return anchor[0] + 1, f"entries after {anchor[0]} were not appended by the service (head anchor)"
    if anchor[1] != last[1]:
        return last[0], "it is not the last entry the head anchor recorded (replaced)"
    return None


async def verify_rows(rows: AsyncIterable[dict[str, object]], referenced_max: int = 0,
                      anchor: Head | None = NO_ANCHOR) -> ChainReport:
    """Verify a streamed record; also fail when its end differs from the anchored head or when
    other tables point past its last entry."""
    verifier = ChainVerifier()
    async for row in rows:
        if not verifier.feed(row):
            return verifier.report()
    report = verifier.report()
    problem = _tail_problem((verifier.prev_id, verifier.prev_hash), anchor)
    if problem:
        return ChainReport(report.entries, *problem)
    if referenced_max > verifier.prev_id:
        return ChainReport(report.entries, verifier.prev_id + 1,
                           f"entry {verifier.prev_id + 1} is referenced but missing (deleted at the end)")
    return report
