"""WeChat Official Account message signatures and safe-mode (AES) message encryption.

Pure functions, no I/O. The scheme, from WeChat's 消息加解密说明 / 技术方案 (mp.weixin.qq.com wiki,
now developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption) and its sample code:

- URL signature: sha1 of the lexicographically sorted, concatenated [token, timestamp, nonce].
- Message signature (safe mode): the same over [token, timestamp, nonce, Encrypt].
- EncodingAESKey: 43 characters; key = base64decode(EncodingAESKey + "=") (32 bytes, AES-256).
- AES-256-CBC with IV = key[:16]; plaintext = 16 random bytes + uint32 big-endian length of the
  message + message + appid, PKCS#7-padded to a multiple of 32 bytes (not AES's 16: the
  samples use a 32-byte block for the padding); the ciphertext travels base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAD_BLOCK = 32
RANDOM_PREFIX = 16
ENCODING_AES_KEY_LENGTH = 43


class WechatCryptoError(ValueError):
    """A ciphertext that does not decode, decrypt or unpad to a well-formed WeChat payload."""


def sha1_signature(*parts: str) -> str:
    """Return WeChat's signature: hex sha1 of the sorted parts joined without separator."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    """Compare two hex signatures in constant time (case-insensitive, as hex is)."""
    return hmac.compare_digest(expected.lower().encode("utf-8"), given.strip().lower().encode("utf-8"))


def aes_key(encoding_aes_key: str) -> bytes:
    """Decode a 43-character EncodingAESKey into the 32-byte AES key; ValueError when malformed."""
    if len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
        raise ValueError(f"EncodingAESKey must be {ENCODING_AES_KEY_LENGTH} characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """Pad to a multiple of `block` bytes; always adds 1..block bytes of value n."""
    n = block - len(data) % block
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """Strip PKCS#7 padding, checking every pad byte; WechatCryptoError when it is not valid."""
    if not data:
        raise WechatCryptoError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= block or n > len(data) or data[-n:] != bytes([n]) * n:
        raise WechatCryptoError("bad padding")
    return data[:-n]


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    # WeChat's quirk: the IV is not random but the first 16 bytes of the key.
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(key: bytes, message: bytes, appid: str, random_prefix: bytes | None = None) -> str:
    """Encrypt one message for `appid`; return the base64 text that goes into <Encrypt>."""
    prefix = os.urandom(RANDOM_PREFIX) if random_prefix is None else random_prefix
    if len(prefix) != RANDOM_PREFIX:
        raise ValueError(f"random prefix must be {RANDOM_PREFIX} bytes")
    plain = prefix + struct.pack(">I", len(message)) + message + appid.encode("utf-8")
    encryptor = _cipher(key).encryptor()
    raw = encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()
    return base64.b64encode(raw).decode("ascii")


def decrypt(key: bytes, encrypted: str) -> tuple[bytes, str]:
    """Decrypt an <Encrypt> text; return (message bytes, appid it was encrypted for)."""
    try:
        raw = base64.b64decode(encrypted.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WechatCryptoError("ciphertext is not base64") from exc
    if not raw or len(raw) % 16:
        raise WechatCryptoError("ciphertext length is not a multiple of the AES block")
    decryptor = _cipher(key).decryptor()
    plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
    body = plain[RANDOM_PREFIX:]
    if len(body) < 4:
        raise WechatCryptoError("plaintext too short")
    (length,) = struct.unpack(">I", body[:4])
    if 4 + length > len(body):
        raise WechatCryptoError("message length exceeds plaintext")
    try:
        appid = body[4 + length :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WechatCryptoError("appid is not UTF-8") from exc
    return body[4 : 4 + length], appid
