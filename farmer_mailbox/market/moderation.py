"""Which postings wait for a liaison before anyone sees them.

A posting is held when its text carries a web address, or a phone number other than the
sender's own (contact goes through the mailbox, where it is on record), or when a liaison has
flagged its author. Everything else goes out at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|cn|net|org|top|xyz|cc|vip|shop|info|io)\b", re.IGNORECASE
)

REASON_URL = "含网址"
REASON_PHONE = "含其他电话号码"
REASON_FLAGGED = "账号需审核"


def has_url(text: str) -> bool:
    """True when the text carries something that reads as a web address."""
    return _URL.search(unicodedata.normalize("NFKC", text)) is not None


def _national(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


def hold_reason(text: str, phones: Iterable[str], sender_phone: str, flagged: bool) -> str:
    """Why a posting must wait for approval, or "" when it may go out at once."""
    if flagged:
        return REASON_FLAGGED
    if has_url(text):
        return REASON_URL
    own = _national(sender_phone)
    if any(_national(p) != own for p in phones):
        return REASON_PHONE
    return ""
