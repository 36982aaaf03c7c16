"""SMS segment counting: what a text costs on the air and on a mainland provider's bill.

Two rules live here, both pure:

- The GSM rule (3GPP TS 23.038/23.040): a text that the GSM 03.38 alphabet can carry goes as
  GSM-7, 160 septets in one SMS or 153 per part once a 6-byte concatenation UDH is needed;
  characters of the extension table (``| ^ € { } [ ] ~ \\`` and form feed) cost two septets and
  an escape pair is never split across parts. Anything else goes as UCS-2: 70 UTF-16 code
  units in one SMS or 67 per part, and a surrogate pair (emoji) is never split.
- The mainland-provider rule (Aliyun 短信发送规则, help.aliyun.com/document_detail/44335): the
  bill counts ``len(signature + text)`` characters, 70 in one SMS, else 67 per SMS.

The `gsm0338` package supplies the codec (``"gsm03.38"``) that decides which charset applies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import gsm0338  # type: ignore[import-untyped]  # noqa: F401  (registers the "gsm03.38" codec)

Encoding = Literal["gsm7", "ucs2"]

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67
MAINLAND_SINGLE = 70
MAINLAND_MULTI = 67


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """How a text goes on the air: its encoding, its size in that encoding's units, its parts."""

    encoding: Encoding
    units: int
    segments: int


# No character above '€' (U+20AC) is in the alphabet or its extension table, so a Chinese text
# is told apart in C at its first character instead of by the codec's per-character Python loop.
_BEYOND_GSM7 = re.compile(r"[^\x00-\u20ac]")


def is_gsm7(text: str) -> bool:
    """True when the whole text fits the GSM 03.38 default alphabet plus its extension table."""
    if _BEYOND_GSM7.search(text):
        return False
    try:
        text.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True


def _gsm7_weight(char: str) -> int:
    """Septets one character costs: 2 for the extension table (escape + char), else 1."""
    return len(char.encode("gsm03.38"))


def _ucs2_weight(char: str) -> int:
    """UTF-16 code units one character costs: 2 for a surrogate pair, else 1."""
    return 2 if ord(char) > 0xFFFF else 1


def _limits(encoding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_MULTI) if encoding == "gsm7" else (UCS2_SINGLE, UCS2_MULTI)


def _part_starts(weights: list[int], single: int, multi: int) -> list[int]:
    """Index where each part starts, packing greedily; [0] when everything fits one SMS."""
    if sum(weights) <= single:
        return [0]
    starts, used = [0], 0
    for index, weight in enumerate(weights):
        if used + weight > multi:  # an escape pair or surrogate pair never straddles two parts
            starts.append(index)
            used = 0
        used += weight
    return starts


def split(text: str) -> list[str]:
    """Split a text into the parts a phone network carries; one part when it fits a single SMS."""
    encoding: Encoding = "gsm7" if is_gsm7(text) else "ucs2"
    weigh = _gsm7_weight if encoding == "gsm7" else _ucs2_weight
    starts = _part_starts([weigh(char) for char in text], *_limits(encoding))
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _parts(text: str, units: int, encoding: Encoding) -> int:
    """Parts for a text of `units` septets or code units; packs character by character only
    when some character costs two units (an escape or surrogate pair that must not straddle)."""
    single, multi = _limits(encoding)
    if units <= single:
        return 1
    if units == len(text):
        return -(-units // multi)
    weigh = _gsm7_weight if encoding == "gsm7" else _ucs2_weight
    return len(_part_starts([weigh(char) for char in text], single, multi))


def count(text: str) -> SegmentCount:
    """Count the SMS parts a text needs under the GSM rule (GSM-7 or UCS-2)."""
    if is_gsm7(text):
        septets = len(text.encode("gsm03.38"))
        return SegmentCount("gsm7", septets, _parts(text, septets, "gsm7"))
    units = len(text.encode("utf-16-be")) // 2
    return SegmentCount("ucs2", units, _parts(text, units, "ucs2"))


def ucs2_segments(text: str) -> int:
    """Count parts when the text is sent as UCS-2 whatever it holds (Kannel with coding=2)."""
    return _parts(text, len(text.encode("utf-16-be")) // 2, "ucs2")


def mainland_segments(signature: str, text: str) -> int:
    """Count billed SMS under the mainland rule: len(signature + text) <= 70 is 1, else ceil(n / 67)."""
    length = len(signature + text)
    return 1 if length <= MAINLAND_SINGLE else math.ceil(length / MAINLAND_MULTI)
