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


_GSM7_HIGHEST = "\u20ac"   # €, the GSM alphabet's highest code point: anything above (Chinese) is UCS-2
_BMP_HIGHEST = "\uffff"    # above it a character takes a surrogate pair in UCS-2


def is_gsm7(text: str) -> bool:
    """True when the whole text fits the GSM 03.38 default alphabet plus its extension table."""
    if text and max(text) > _GSM7_HIGHEST:
        return False  # the common case here (Chinese), decided without the pure-Python codec
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
    if encoding == "ucs2" and (not text or max(text) <= _BMP_HIGHEST):  # one unit per character
        if len(text) <= UCS2_SINGLE:
            return [text]
        return [text[i:i + UCS2_MULTI] for i in range(0, len(text), UCS2_MULTI)]
    weigh = _gsm7_weight if encoding == "gsm7" else _ucs2_weight
    starts = _part_starts([weigh(char) for char in text], *_limits(encoding))
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def count(text: str) -> SegmentCount:
    """Count the SMS parts a text needs under the GSM rule (GSM-7 or UCS-2)."""
    if is_gsm7(text):
        return SegmentCount("gsm7", len(text.encode("gsm03.38")), len(split(text)))
    if not text or max(text) <= _BMP_HIGHEST:  # one unit per character: arithmetic, no packing walk
        return SegmentCount("ucs2", len(text), _bmp_parts(len(text)))
    return SegmentCount("ucs2", len(text.encode("utf-16-be")) // 2, len(split(text)))


def _bmp_parts(units: int) -> int:
    return 1 if units <= UCS2_SINGLE else math.ceil(units / UCS2_MULTI)


def ucs2_segments(text: str) -> int:
    """Count parts when the text is sent as UCS-2 whatever it holds (Kannel with coding=2)."""
    if not text or max(text) <= _BMP_HIGHEST:
        return _bmp_parts(len(text))
    return len(_part_starts([_ucs2_weight(char) for char in text], UCS2_SINGLE, UCS2_MULTI))


def mainland_segments(signature: str, text: str) -> int:
    """Count billed SMS under the mainland rule: len(signature + text) <= 70 is 1, else ceil(n / 67)."""
    length = len(signature + text)
    return 1 if length <= MAINLAND_SINGLE else math.ceil(length / MAINLAND_MULTI)
