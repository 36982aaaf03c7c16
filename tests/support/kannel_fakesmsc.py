"""fakesmsc's line formats: the MT lines it prints, read back into messages (multi-part joined),
and the stdin lines that make it send an MO. Pure: no processes, no sockets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

_MT_LINE = re.compile(r"Got message \d+: <(\S+) (\S+) (.*)>$")
_UDH_PART = re.compile(r"^udh (\S+) data (\S*)$")


def kannel_decode(value: str) -> bytes:
    """Undo Kannel's url-encoding (space written as '+')."""
    return unquote_to_bytes(value.replace("+", "%20"))


@dataclass(frozen=True, slots=True)
class MtMessage:
    """One MT as fakesmsc printed it, multi-part messages joined. `kind`: text, data or ucs-2."""

    sender: str
    receiver: str
    kind: str
    body: bytes
    parts: int = 1
    udh: tuple[bytes, ...] = ()

    @property
    def text(self) -> str:
        """The decoded text; joined UDH parts print as `data`, read as UCS-2 (our gateway's coding)."""
        if self.kind == "text":
            return self.body.decode("utf-8", "replace")
        if self.kind == "ucs-2" or self.parts > 1:
            return self.body.decode("utf-16-be")
        return self.body.decode("latin-1")


@dataclass
class _Reassembler:
    """Joins UDH parts (8- or 16-bit reference) into MtMessages."""

    pending: dict[tuple[str, str, int, int], dict[int, tuple[bytes, bytes]]] = field(default_factory=dict)

    def feed(self, line: str) -> MtMessage | None:
        match = _MT_LINE.search(line)
        if not match:
            return None
        sender, receiver, rest = match.groups()
        part = _UDH_PART.match(rest)
        if part is None:
            kind, _, data = rest.partition(" ")
            body = data.encode("utf-8", "surrogateescape") if kind == "text" else kannel_decode(data)
            return MtMessage(sender, receiver, kind, body)
        return self._part(sender, receiver, kannel_decode(part.group(1)), kannel_decode(part.group(2)))

    def _part(self, sender: str, receiver: str, udh: bytes, body: bytes) -> MtMessage | None:
        if len(udh) >= 6 and udh[1] == 0x00:  # IEI 00: 8-bit reference
            ref, total, seq = udh[3], udh[4], udh[5]
        elif len(udh) >= 7 and udh[1] == 0x08:  # IEI 08: 16-bit reference
            ref, total, seq = udh[3] << 8 | udh[4], udh[5], udh[6]
        else:
            return MtMessage(sender, receiver, "data", body, 1, (udh,))
        key = (sender, receiver, ref, total)
        parts = self.pending.setdefault(key, {})
        parts[seq] = (udh, body)
        if len(parts) < total:
            return None
        del self.pending[key]
        ordered = [parts[index] for index in sorted(parts)]
        joined = b"".join(chunk for _, chunk in ordered)
        return MtMessage(sender, receiver, "data", joined, total, tuple(u for u, _ in ordered))


def _mo_line(sender: str, receiver: str, text: str) -> bytes:
    """One fakesmsc stdin line: `ucs2` (url-encoded UTF-16BE, exact) when it fits 255 bytes, else `text`.

    fakesmsc reads stdin in 255-byte chunks and a longer line does not arrive whole; raw UTF-8
    (`text`, 3 bytes per CJK character) fits a full 70-character SMS but cannot hold a newline.
    """
    line = f"{sender} {receiver} ucs2 {quote(text.encode('utf-16-be'), safe='')}\n".encode("ascii")
    if len(line) <= 255:
        return line
    line = f"{sender} {receiver} text {text}\n".encode()
    if len(line) > 255 or "\n" in text:
        raise ValueError(f"MO too long for one fakesmsc line ({len(line)} bytes): {text!r}")
    return line
