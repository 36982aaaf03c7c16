"""Personal data at rest and on screen: ID numbers encrypted, looked up by keyed hash, masked.

The ID number is sealed with AES-256-GCM under a key derived from the configured secret, and a
separate HMAC-SHA256 key gives a stable hash for uniqueness look-ups without decrypting. Phones
and ID numbers are masked for display everywhere except an audited admin export.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

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
