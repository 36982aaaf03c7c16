"""Phone numbers in a message: found, normalised, and masked so no digit reads as a quantity."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<![\d.])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\d.])")
_LANDLINE = re.compile(r"(?<![\d.])(0\d{2,3})[\s-]?(\d{7,8})(?![\d.])")
# Long digit runs that are no amount (ID numbers, bank cards, order numbers).
_MANY_DIGITS = re.compile(r"\d[\d\s-]{7,}\d")
_LONG_DIGITS = re.compile(r"(?<![\d.])\d{9,}[\dx]?(?![\d.])")


def find_phones(text: str) -> tuple[tuple[str, ...], str]:
    """Phones in order of appearance, and the text with them blanked out (offsets unchanged).

    Mobiles are given as 11 digits, landlines as area-number (0574-63012345). Other long digit
    runs (ID and card numbers) are blanked too, so none of them reads as an amount.
    """
    if not _MANY_DIGITS.search(text):
        return (), text
    found: list[tuple[int, str]] = []
    masked = text
    for pattern, joiner in ((_MOBILE, ""), (_LANDLINE, "-")):
        for match in pattern.finditer(masked):
            found.append((match.start(), joiner.join(match.groups())))
        masked = pattern.sub(lambda m: " " * len(m[0]), masked)
    masked = _LONG_DIGITS.sub(lambda m: " " * len(m[0]), masked)
    phones: list[str] = []
    for _, phone in sorted(found):
        if phone not in phones:
            phones.append(phone)
    return tuple(phones), masked
