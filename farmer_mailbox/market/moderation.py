"""Which postings wait for a liaison before anyone sees them, and which relayed messages are refused.

A posting is held when its text carries a web address, or a phone number other than the
sender's own (contact goes through the mailbox, where it is on record), or when a liaison has
flagged its author. Everything else goes out at once. A relayed message (HF) with a web address
or another number is refused: relays must not be a way around moderation.

Addresses are found however they are spelled: "baidu.com", "baidu。com", "www 。xx。cn",
"baidu点com". Numbers too: digits, full-width digits, Chinese numerals ("一三八一二三四五六七八",
"幺三八…", capital 壹贰叁) and mixtures, with spaces or dashes between the digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from farmer_mailbox.text.phones import find_phones
from farmer_mailbox.wording import fragment

_DOT = r"\s*(?:[.。．｡·]|点|dot)\s*"
_TLD = r"(?:com|cn|net|org|top|xyz|cc|vip|shop|info|io|me|tv|co|wang|site|online|link|app)"
_URL = re.compile(
    rf"(?:https?\s*[:：]\s*//|www{_DOT})|(?<![a-z0-9-])[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)*{_DOT}{_TLD}(?![a-z0-9])",
    re.IGNORECASE,
)
# Digits as they are spoken or written in Chinese, as a phone number is read out (幺 = 1).
_CN_DIGITS = str.maketrans({
    "〇": "0", "零": "0", "○": "0", "Ｏ": "0",
    "一": "1", "幺": "1", "壹": "1",
    "二": "2", "贰": "2", "貳": "2",
    "三": "3", "叁": "3", "參": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9",
})
_CN_RUN = re.compile(r"[〇零○一幺壹二贰貳三叁參四肆五伍六陆陸七柒八捌九玖]{7,}")

REASON_URL = fragment("hold.url")
REASON_PHONE = fragment("hold.phone")
REASON_FLAGGED = fragment("hold.flagged")


def has_url(text: str) -> bool:
    """True when the text carries something that reads as a web address."""
    return _URL.search(unicodedata.normalize("NFKC", text)) is not None


def _national(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


def numbers_in(text: str) -> list[str]:
    """Phone numbers in a text however written (digits, Chinese numerals), and long runs of
    Chinese numerals (a QQ or WeChat number read out), as digit strings."""
    plain = unicodedata.normalize("NFKC", text)
    runs = ["".join(run).translate(_CN_DIGITS) for run in _CN_RUN.findall(plain)]
    phones, _ = find_phones(plain.translate(_CN_DIGITS))
    return [*phones, *(r for r in runs if r not in phones)]


def other_numbers(text: str, phones: Iterable[str], sender_phone: str) -> bool:
    """True when the text (or the phones found in it) has a number other than the sender's own."""
    own = _national(sender_phone)
    return any(_national(p) != own for p in [*phones, *numbers_in(text)])


def hold_reason(text: str, phones: Iterable[str], sender_phone: str, flagged: bool) -> str:
    """Why a posting must wait for approval, or "" when it may go out at once."""
    if flagged:
        return REASON_FLAGGED
    if has_url(text):
        return REASON_URL
    if other_numbers(text, phones, sender_phone):
        return REASON_PHONE
    return ""


def relay_refused(text: str, sender_phone: str) -> bool:
    """True when a relayed message carries a web address or a number other than the sender's."""
    return has_url(text) or other_numbers(text, (), sender_phone)
