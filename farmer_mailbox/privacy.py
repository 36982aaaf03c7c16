"""Personal data at rest and on screen: ID numbers encrypted, looked up by keyed hash, masked.

The ID number is sealed with AES-256-GCM under a key derived from the configured secret, and a
separate HMAC-SHA256 key gives a stable hash for uniqueness look-ups without decrypting. Phones
and ID numbers are masked for display everywhere except an audited admin export.

Inbound texts carry ID numbers too (a liaison's 注册 SMS): `redact_ids` replaces every ID-shaped
number by its masked form before the text is stored, and the numbers themselves are kept sealed
(`IdVault.seal_list`) for the processing that needs them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Demo mode only: a fixed, published key, so the demo runs without set-up. Never for real data.
DEMO_KEY = base64.b64encode(b"farmer-mailbox demo key, public!").decode()
_NONCE_BYTES = 12
_VERSION = b"\x01"


class IdKeyError(ValueError):
    """The configured ID key is missing or malformed."""


def parse_key(text: str) -> bytes:
    """Decode a base64 32-byte key, or raise IdKeyError saying what is wrong."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise IdKeyError("the ID key must be base64 (e.g. from `openssl rand -base64 32`)") from None
    if len(raw) != 32:
        raise IdKeyError(f"the ID key must decode to 32 bytes, got {len(raw)}")
    return raw


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class IdVault:
    """Seals, opens and hashes resident ID numbers with keys derived from one master key."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(_derive(master_key, b"farmer-mailbox id-encrypt v1"))
        self._hash_key = _derive(master_key, b"farmer-mailbox id-hash v1")
        self._mac_key = _derive(master_key, b"farmer-mailbox mac v1")

    @classmethod
    def from_text(cls, key_text: str) -> IdVault:
        """Build a vault from the base64 key text held in the environment."""
        return cls(parse_key(key_text))

    def seal(self, id_number: str) -> bytes:
        """Encrypt an ID number; the result differs on every call (random nonce)."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, id_number.encode(), b"id")

    def open(self, sealed: bytes) -> str:
        """Decrypt what `seal` produced."""
        if sealed[:1] != _VERSION:
            raise ValueError("unknown ID cipher version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, body, b"id").decode()

    def seal_list(self, values: list[str]) -> bytes:
        """Encrypt a list of strings (the ID numbers found in one inbound message)."""
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(values, ensure_ascii=False).encode()
        return _VERSION + nonce + self._aead.encrypt(nonce, plain, b"inbound-ids")

    def open_list(self, sealed: bytes) -> list[str]:
        """Decrypt what `seal_list` produced."""
        if sealed[:1] != _VERSION:
            raise ValueError("unknown ID cipher version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        values = json.loads(self._aead.decrypt(nonce, body, b"inbound-ids"))
        return [str(v) for v in values]

    def lookup_hash(self, id_number: str) -> str:
        """Keyed hash of a normalised ID number, for uniqueness checks without decrypting."""
        return hmac.new(self._hash_key, id_number.upper().encode(), hashlib.sha256).hexdigest()

    def mac(self, purpose: str, text: str) -> str:
        """Keyed hash of short secrets (one-time codes): worthless to whoever reads the database alone."""
        return hmac.new(self._mac_key, f"{purpose}\0{text}".encode(), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    """Show an ID number as 330282********1234 (region prefix and last four only)."""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """Show a mobile number as 139****5678."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


# ID-shaped numbers in free text. Runs of 15-19 digits and Latin letters holding at least 14
# digits: an 18-character ID number (17 digits and a digit or X), also one mistyped by a character
# or a digit (it is still somebody's number); 15 plain digits only when they read as a pre-1999 ID
# (region, YYMMDD, serial). Also 18 characters in the usual 6-8-4 and 6-4-4-4 groups. `\d` and
# the classes include full-width forms. Never part of a longer run of digits or letters.
_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
_X = "[0-9０-９XxＸｘ]"
_D = "[0-9０-９]"
_ID_IN_TEXT = re.compile(
    rf"(?<![{_ALNUM}])[{_ALNUM}]{{15,19}}(?![{_ALNUM}])"      # a run standing alone
    rf"|(?<!{_D}){_D}{{15,19}}[XxＸｘ]?(?!{_D})"              # digits run into letters: ID330282...
    rf"|(?<![{_ALNUM}])(?:{_D}{{6}}[ \-]{_D}{{8}}[ \-]{_D}{{3}}{_X}"
    rf"|{_D}{{6}}[ \-]{_D}{{4}}[ \-]{_D}{{4}}[ \-]{_D}{{3}}{_X})(?![{_ALNUM}])"
)
_OLD_ID = re.compile(r"[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[ \-]?)?(1[3-9]\d)[ \-]?(\d{4})[ \-]?(\d{4})(?!\d)")


def _id_shaped(number: str) -> bool:
    """Whether a normalised run of digits and letters is (or nearly is) a resident ID number."""
    if len(number) == 15 and number.isdigit():
        return _OLD_ID.fullmatch(number) is not None
    return sum(ch.isdigit() for ch in number) >= 14


@dataclass(frozen=True, slots=True)
class Redacted:
    """A text with its ID numbers masked, and the numbers found (normalised, in order)."""

    text: str
    ids: list[str] = field(default_factory=list, repr=False)


def _normalise_id(found: str) -> str:
    return re.sub(r"[ \-]", "", unicodedata.normalize("NFKC", found)).upper()


def redact_ids(text: str) -> Redacted:
    """Replace every ID-shaped number in `text` by its masked form; return both."""
    ids: list[str] = []

    def mask(match: re.Match[str]) -> str:
        number = _normalise_id(match[0])
        if not _id_shaped(number):
            return match[0]
        ids.append(number)
        return mask_id(number)

    return Redacted(_ID_IN_TEXT.sub(mask, text), ids)


def mask_ids_in(text: str) -> str:
    """`text` with every ID-shaped number masked (for showing texts stored before redaction)."""
    return redact_ids(text).text


def mask_phones_in(text: str) -> str:
    """`text` with every mainland mobile number masked as 139****5678 (for non-staff viewers)."""
    return _PHONE_IN_TEXT.sub(lambda m: f"{m[1]}****{m[3]}", text)


def unmask_id(field_text: str, ids: list[str]) -> str:
    """The ID number whose masked form `field_text` is, among `ids`; `field_text` itself if none."""
    wanted = field_text.strip().upper()
    for number in ids:
        if mask_id(number).upper() == wanted:
            return number
    return field_text
