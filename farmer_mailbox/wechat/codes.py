"""Binding codes: six random digits, stored only as a keyed hash bound to the openid and the user."""

from __future__ import annotations

import hmac
import secrets

from farmer_mailbox.privacy import IdVault

PURPOSE = "wechat-bind-code v1"


def new_code() -> str:
    """Six digits from the system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(vault: IdVault, openid: str, user_id: int, code: str) -> str:
    """The keyed hash stored for a code: useless for another openid, another user, or without the key."""
    return vault.mac(PURPOSE, f"{openid}:{user_id}:{code}")


def code_matches(vault: IdVault, stored: str, openid: str, user_id: int, code: str) -> bool:
    """True when `code` is the one whose hash was stored (constant-time comparison)."""
    return bool(stored) and hmac.compare_digest(stored, code_hash(vault, openid, user_id, code))
