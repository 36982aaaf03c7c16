"""WeChat pushes to our `/wechat` URL: URL verification, message verification and decoding,
the mapping to InboundSms / DeliveryReceipt, and passive replies. Pure: no I/O, no clock.

Sources: 接入指南 / 消息推送 (URL verification), 接收普通消息, 接收事件推送, 被动回复用户消息,
消息加解密说明, 模板消息 (事件推送 TEMPLATESENDJOBFINISH), on developers.weixin.qq.com.

- GET verification carries `signature, timestamp, nonce, echostr`; we echo `echostr` verbatim.
  For an Official Account the echostr is plain text in every mode, safe mode included (only
  WeCom encrypts it and signs it with msg_signature); the official example answers the GET
  with Token="AAAAA" by returning echostr "4375120948345356249" unchanged.
- POST in plain mode: `signature` covers only token, timestamp and nonce, never the body.
- POST in safe/compatible mode: the query adds `encrypt_type=aes` and `msg_signature`, which
  covers the body's <Encrypt>; the decrypted XML is the message (compatible mode's plaintext
  copies beside <Encrypt> are ignored: they are not signed).
- WeChat retries a push three times when we do not answer in 5 s; dedupe text by MsgId, events
  by FromUserName + CreateTime. Answering "success" (or an empty body) stops the retries.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gateways import DeliveryReceipt, InboundSms, WebhookError
from gateways.wechat_crypto import WechatCryptoError, decrypt, encrypt, sha1_signature, signature_matches
from gateways.wechat_xml import MAX_BODY_BYTES, build_envelope, build_xml, parse_fields

TEMPLATE_FINISH = "TEMPLATESENDJOBFINISH"
MAX_CREATE_TIME = 2**32 - 1   # CreateTime: unsigned 32-bit Unix seconds (up to 2106-02-07)
_CREATE_TIME = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True, slots=True)
class WechatPush:
    """One verified, decoded push: its fields, whether it came encrypted, and what it means."""

    fields: Mapping[str, str]
    encrypted: bool
    inbound: tuple[InboundSms, ...]
    receipts: tuple[DeliveryReceipt, ...]


@dataclass(frozen=True, slots=True)
class PushKeys:
    """What verifying and decrypting a push needs: token, appid and, in safe mode, the AES key."""

    token: str
    appid: str
    aes_key: bytes | None = None
    allow_plain: bool = False
    max_body_bytes: int = MAX_BODY_BYTES


def _require(query: Mapping[str, str], *names: str) -> list[str]:
    """The named query parameters; WebhookError 403 when one is missing, 400 when one is no text.

    A lone surrogate (what a framework may leave of undecodable percent-escapes) cannot be signed
    or hashed as UTF-8: such a value is refused rather than raising out of the signature check.
    """
    values = [query.get(name, "") for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise WebhookError(403, f"missing {', '.join(missing)}")
    for name, value in zip(names, values, strict=True):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise WebhookError(400, f"{name} is not UTF-8 text") from None
    return values


def check_signature(token: str, query: Mapping[str, str]) -> None:
    """Check the URL `signature` = sha1(sorted(token, timestamp, nonce)); WebhookError(403) if not."""
    signature, timestamp, nonce = _require(query, "signature", "timestamp", "nonce")
    if not signature_matches(sha1_signature(token, timestamp, nonce), signature):
        raise WebhookError(403, "bad signature")


def verify_url(token: str, query: Mapping[str, str]) -> str:
    """Answer WeChat's GET URL verification: return `echostr` when the signature holds, else 403."""
    check_signature(token, query)
    echostr = query.get("echostr", "")
    if not echostr:
        raise WebhookError(400, "missing echostr")
    return echostr


def open_push(keys: PushKeys, query: Mapping[str, str], body: bytes) -> tuple[dict[str, str], bool]:
    """Verify a POST push and return (message fields, encrypted?); WebhookError 403/400."""
    encrypted = query.get("encrypt_type", "raw").lower() == "aes"
    if not encrypted:
        if keys.aes_key is not None and not keys.allow_plain:
            # Plain mode signs only the URL, so a captured URL could carry any body: once safe
            # mode is configured we refuse plain pushes unless told to (compatible-mode rollout).
            raise WebhookError(403, "plain push refused: safe mode is configured")
        check_signature(keys.token, query)
        return parse_fields(body, max_bytes=keys.max_body_bytes), False
    if keys.aes_key is None:
        raise WebhookError(403, "encrypted push but no encoding_aes_key is configured")
    return _open_encrypted(keys, keys.aes_key, query, body), True


def _open_encrypted(keys: PushKeys, key: bytes, query: Mapping[str, str], body: bytes) -> dict[str, str]:
    msg_signature, timestamp, nonce = _require(query, "msg_signature", "timestamp", "nonce")
    envelope = parse_fields(body, max_bytes=keys.max_body_bytes)
    ciphertext = envelope.get("Encrypt", "")
    if not ciphertext:
        raise WebhookError(400, "encrypted push without <Encrypt>")
    if not signature_matches(sha1_signature(keys.token, timestamp, nonce, ciphertext), msg_signature):
        raise WebhookError(403, "bad msg_signature")
    try:
        message, appid = decrypt(key, ciphertext)
    except WechatCryptoError as exc:
        raise WebhookError(400, f"cannot decrypt: {exc}") from exc
    if not hmac.compare_digest(appid.encode("utf-8"), keys.appid.encode("utf-8")):
        raise WebhookError(403, "message encrypted for another appid")
    return parse_fields(message, max_bytes=keys.max_body_bytes)


def _created(fields: Mapping[str, str]) -> tuple[int, datetime]:
    """CreateTime as (Unix seconds, UTC time); WebhookError(400) unless plain digits up to MAX_CREATE_TIME.

    WeChat writes an unsigned Unix time. A sign, a non-ASCII digit or a time before 1970 comes from
    no push of WeChat's, and the years such values reach (999, 9999) are times the service cannot
    keep or show (9999-12-31 has no Asia/Shanghai time).
    """
    raw = fields.get("CreateTime", "")
    if not _CREATE_TIME.fullmatch(raw) or int(raw) > MAX_CREATE_TIME:
        raise WebhookError(400, f"bad CreateTime {raw[:20]!r}")
    seconds = int(raw)
    return seconds, datetime.fromtimestamp(seconds, tz=UTC)


def to_inbound(fields: Mapping[str, str]) -> tuple[InboundSms, ...]:
    """Map a message to InboundSms: text, events (keyed openid:time:event), or unsupported types."""
    sender = fields.get("FromUserName", "")
    if not sender:
        raise WebhookError(400, "missing FromUserName")
    seconds, received_at = _created(fields)
    msg_type = fields.get("MsgType", "")
    recipient = fields.get("ToUserName", "")
    if msg_type == "event":
        event = fields.get("Event", "")
        if event == TEMPLATE_FINISH:
            return ()  # a delivery report for a message we sent, not a user's message
        external_id = f"{sender}:{seconds}:{event}"
        return (InboundSms(sender, "", external_id, received_at, recipient, event or "unknown"),)
    external_id = fields.get("MsgId", "") or f"{sender}:{seconds}:{msg_type}"
    if msg_type == "text":
        return (InboundSms(sender, fields.get("Content", ""), external_id, received_at, recipient),)
    event = f"unsupported:{msg_type or 'unknown'}"
    return (InboundSms(sender, "", external_id, received_at, recipient, event),)


def to_receipts(fields: Mapping[str, str]) -> tuple[DeliveryReceipt, ...]:
    """Map a TEMPLATESENDJOBFINISH event to a receipt keyed by its MsgID; anything else → ()."""
    if fields.get("MsgType") != "event" or fields.get("Event") != TEMPLATE_FINISH:
        return ()
    msg_id = fields.get("MsgID", "") or fields.get("MsgId", "")  # the docs spell it MsgID here
    status = fields.get("Status", "")
    if not msg_id:
        return ()
    if status == "success":
        return (DeliveryReceipt(msg_id, "delivered", status),)
    if status.startswith("failed"):
        # "failed:user block" (the user refuses this account's messages), "failed: system failed".
        return (DeliveryReceipt(msg_id, "failed", status.partition(":")[2].strip() or status),)
    return ()


def decode_push(keys: PushKeys, query: Mapping[str, str], body: bytes) -> WechatPush:
    """Verify, decrypt and decode one POST push into a WechatPush."""
    fields, encrypted = open_push(keys, query, body)
    return WechatPush(fields, encrypted, to_inbound(fields), to_receipts(fields))


def build_text_reply(to_openid: str, from_account: str, content: str, now: datetime) -> bytes:
    """Build a passive text reply (被动回复 文本消息), UTF-8 XML with CDATA."""
    fields: dict[str, str | int] = {
        "ToUserName": to_openid,
        "FromUserName": from_account,
        "CreateTime": int(now.timestamp()),
        "MsgType": "text",
        "Content": content,
    }
    return build_xml(fields).encode("utf-8")


def encrypt_reply(
    reply: bytes,
    *,
    token: str,
    aes_key: bytes,
    appid: str,
    timestamp: str,
    nonce: str,
    random_prefix: bytes | None = None,
) -> bytes:
    """Encrypt a passive reply into the safe-mode envelope, signed with msg_signature."""
    ciphertext = encrypt(aes_key, reply, appid, random_prefix)
    signature = sha1_signature(token, timestamp, nonce, ciphertext)
    return build_envelope(ciphertext, signature, timestamp, nonce).encode("utf-8")
