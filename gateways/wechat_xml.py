"""Hardened parsing and building of WeChat's flat `<xml>` messages.

WeChat pushes every message and event as one `<xml>` element whose children are the fields
(ToUserName, FromUserName, CreateTime, MsgType, ...), text in CDATA or plain (接收普通消息,
接收事件推送). Parsing goes through defusedxml with DTDs, entities and external references
forbidden, after a size check, so billion-laughs and XXE bodies are refused before expansion.
Control characters XML forbids, which WeChat copies into CDATA unescaped, are dropped first.
Every failure surfaces as WebhookError(400, reason): callers never see a parser exception.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from gateways import WebhookError

MAX_BODY_BYTES = 64 * 1024

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates and U+FFFE/U+FFFF.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The C0 controls among them, as bytes. WeChat copies a user's text into CDATA unescaped, control
# characters included (\x1d, \x10 reported by the users of other WeChat libraries, WeRoBot #420,
# EasyWeChat #1419). In UTF-8 these bytes are never part of a longer character.
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")


def parse_fields(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, str]:
    """Parse a WeChat `<xml>` body into {child tag: text}; WebhookError(400) when refused."""
    if not body.strip():
        raise WebhookError(400, "empty body")
    if len(body) > max_bytes:
        raise WebhookError(400, f"body larger than {max_bytes} bytes")
    root = _parse_root(drop_controls(body))
    if root.tag != "xml":
        raise WebhookError(400, f"root element is <{root.tag}>, expected <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str):
            # First occurrence wins; nested elements (e.g. ScanCodeInfo) keep only their own text.
            fields.setdefault(child.tag, (child.text or "").strip())
    return fields


def drop_controls(body: bytes) -> bytes:
    """Drop the C0 control characters XML forbids, so a user's message with one is read, not refused.

    A UTF-16 or UTF-32 body (a byte-order mark, or NUL in its first four bytes) is left as it is:
    its NUL bytes are halves of characters.
    """
    if body.startswith(_WIDE_BOMS) or b"\x00" in body[:4]:
        return body
    return _CONTROL_BYTES.sub(b"", body)


def _parse_root(body: bytes) -> ET.Element:
    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise WebhookError(400, f"forbidden XML construct: {type(exc).__name__}") from exc
    except ET.ParseError as exc:
        raise WebhookError(400, f"malformed XML: {exc}") from exc
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:
        # Unknown declared encodings (LookupError) and the like: still a malformed body.
        raise WebhookError(400, f"malformed XML: {type(exc).__name__}") from exc


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return _INVALID_XML_CHARS.sub("", text)


def cdata(text: str) -> str:
    """Wrap text in CDATA; a ']]>' inside is split across two sections so it cannot close early."""
    return "<![CDATA[" + xml_safe(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: Mapping[str, str | int]) -> str:
    """Build a flat `<xml>`: ints as bare numbers, strings as CDATA, in the given order."""
    parts = ["<xml>"]
    for tag, value in fields.items():
        inner = str(value) if isinstance(value, int) else cdata(value)
        parts.append(f"<{tag}>{inner}</{tag}>")
    parts.append("</xml>")
    return "".join(parts)


def build_envelope(encrypted: str, signature: str, timestamp: str, nonce: str) -> str:
    """Build the safe-mode reply envelope <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.

    Laid out one element a line, as WeChat's sample code (and wechatpy) do.
    """
    return (
        "<xml>\n"
        f"<Encrypt>{cdata(encrypted)}</Encrypt>\n"
        f"<MsgSignature>{cdata(signature)}</MsgSignature>\n"
        f"<TimeStamp>{escape(xml_safe(timestamp))}</TimeStamp>\n"
        f"<Nonce>{cdata(nonce)}</Nonce>\n"
        "</xml>"
    )
