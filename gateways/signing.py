"""Request signing for the cloud providers: Aliyun ACS3, Tencent TC3 and Twilio webhooks. Pure.

Sources:
- ACS3-HMAC-SHA256 (Aliyun OpenAPI V3): alibabacloud.com/help/en/sdk/product-overview/
  v3-request-structure-and-signature; worked example reproduced in tests/gateways/test_signing.py.
- TC3-HMAC-SHA256 (Tencent Cloud API 3.0): tencentcloud.com/document/product/382/40467 (SMS,
  "Signature v3"), worked example reproduced in tests.
- X-Twilio-Signature: twilio.com/docs/usage/security; twilio-python `request_validator.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit, urlunsplit

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
TC3_ALGORITHM = "TC3-HMAC-SHA256"


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256, the payload hash both ACS3 and TC3 use."""
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay literal, space is %20 (ACS3 rule)."""
    return quote(value, safe="-_.~")


def acs3_query(params: Mapping[str, str]) -> str:
    """The canonical (sorted, RFC 3986 encoded) query string; send exactly this on the wire."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def acs3_canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> tuple[str, str]:
    """Return (CanonicalRequest, SignedHeaders); every header given is signed."""
    lowered = sorted((name.lower(), value.strip()) for name, value in headers.items())
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in lowered)
    signed = ";".join(name for name, _ in lowered)
    parts = [method.upper(), path or "/", acs3_query(query), canonical_headers, signed, sha256_hex(body)]
    return "\n".join(parts), signed


def acs3_authorization(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
) -> str:
    """The Authorization header value for an Aliyun V3 request signed over `headers`."""
    canonical, signed = acs3_canonical_request(method, path, query, headers, body)
    string_to_sign = f"{ACS3_ALGORITHM}\n{sha256_hex(canonical.encode('utf-8'))}"
    signature = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


def tc3_date(timestamp: int) -> str:
    """The UTC date of a timestamp; Tencent's docs warn that a local (UTC+8) date breaks at midnight."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def tc3_canonical_request(method: str, query: str, content_type: str, host: str, body: bytes) -> str:
    """CanonicalRequest over the two signed headers, content-type and host (as the SDKs sign)."""
    headers = f"content-type:{content_type}\nhost:{host}\n"
    return "\n".join([method.upper(), "/", query, headers, "content-type;host", sha256_hex(body)])


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """Derive the signing key (TC3+key → date → service → tc3_request) and sign."""
    key = _hmac256(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac256(_hmac256(key, service), "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    content_type: str,
    timestamp: int,
    body: bytes,
    method: str = "POST",
    query: str = "",
) -> str:
    """The Authorization header value for a Tencent Cloud API 3.0 request."""
    date = tc3_date(timestamp)
    scope = f"{date}/{service}/tc3_request"
    canonical = tc3_canonical_request(method, query, content_type, host, body)
    string_to_sign = f"{TC3_ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"
    signature = tc3_signature(secret_key, date, service, string_to_sign)
    return (
        f"{TC3_ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}"
    )


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    """base64 HMAC-SHA1 over the URL then each `name+value`, names sorted, each name's values sorted."""
    data = url + "".join(name + value for name in sorted(params) for value in sorted(set(params[name])))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_url_variants(url: str) -> list[str]:
    """The URL as given plus the form with the default port added or removed.

    Twilio signs sometimes with and sometimes without the default port (its SDKs check both).
    We only toggle the scheme's default port; a non-default port must match exactly.
    """
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or not host:
        return [url]
    if parts.port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return [url]
    return [url, urlunsplit(other)]


def twilio_signature_valid(
    auth_token: str, url: str, params: Mapping[str, Sequence[str]], signature: str
) -> bool:
    """Check X-Twilio-Signature in constant time against the URL with and without its default port."""
    given = signature.encode("utf-8")
    results = [
        hmac.compare_digest(twilio_signature(auth_token, variant, params).encode("ascii"), given)
        for variant in twilio_url_variants(url)
    ]
    return any(results)
