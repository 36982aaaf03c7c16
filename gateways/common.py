"""Shared pieces of the gateways: option readers, webhook body parsers, token checks, HTTP calls.

Everything that raises here raises the contract's errors: `ValueError` naming the option at
construction, `WebhookError` (400 with a reason, 403) while parsing, `SendError` while sending.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx

from gateways import Capabilities, GatewaySettings, SendError, WebhookError, WebhookRequest
from gateways.options import Option, unknown_options
from gateways.segments import count as count_segments
from gateways.segments import mainland_segments

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
DEFAULT_TIMEOUT = 10.0


# --- options -------------------------------------------------------------------------------


class Options:
    """Typed reads of `GatewaySettings.options`, each failure a ValueError naming the key.

    With the type's declared options (`gateways.options`), an undeclared option is refused at
    once and a read without an explicit default takes the declared one.
    """

    def __init__(self, settings: GatewaySettings, declared: Mapping[str, Option] | None = None) -> None:
        self.settings = settings
        self.declared = declared or {}
        if declared is not None:
            for key in unknown_options(settings.options, declared):
                raise self.error(key, f"is not an option of type {settings.type} "
                                      f"(known: {', '.join(sorted(declared))})")

    def error(self, key: str, problem: str) -> ValueError:
        """Build the ValueError every bad option raises: gateway name, type, key, problem."""
        s = self.settings
        return ValueError(f"gateway {s.name!r} ({s.type}): option {key!r} {problem}")

    def _get(self, key: str, default: Any) -> Any:
        if default is None and key in self.declared:
            default = self.declared[key].default
        return self.settings.options.get(key, default)

    def string(self, key: str, default: str | None = None) -> str:
        """A required (or defaulted) non-empty string."""
        value = self._get(key, default)
        if value is None:
            raise self.error(key, "is required")
        if not isinstance(value, str) or not value:
            raise self.error(key, "must be a non-empty string")
        return value

    def optional_string(self, key: str) -> str:
        """A string that may be absent ('' then)."""
        value = self._get(key, "")
        if not isinstance(value, str):
            raise self.error(key, "must be a string")
        return value

    def choice(self, key: str, default: str | None, choices: tuple[str, ...]) -> str:
        """A string among `choices` (compared case-insensitively, returned as listed)."""
        value = self.string(key, default)
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise self.error(key, f"must be one of {', '.join(choices)}")

    def number(self, key: str, default: float | None = None, *, minimum: float = 0.0) -> float:
        """A number >= minimum (ints and floats, not bools)."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.error(key, f"must be a number >= {minimum:g}")
        return float(value)

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0) -> int:
        """An integer >= minimum."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be an integer >= {minimum}")
        return value

    def mapping(self, key: str, *, required: bool = False) -> Mapping[str, Any]:
        """A table (dict) option; its declared default (or {}) when absent and not required."""
        value = self._get(key, None)
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping) or (required and not value):
            raise self.error(key, "must be a non-empty table" if required else "must be a table")
        return value

    def str_map(self, key: str, *, required: bool = False) -> dict[str, str]:
        """A table of non-empty strings, e.g. our template key -> provider template code."""
        table = self.mapping(key, required=required)
        for name, value in table.items():
            if not isinstance(value, str) or not value:
                raise self.error(f"{key}.{name}", "must be a non-empty string")
        return dict(table)

    def timeout(self) -> httpx.Timeout:
        """The explicit per-request timeout (`timeout` seconds, default 10; connect at most 5)."""
        total = self.number("timeout", DEFAULT_TIMEOUT, minimum=0.001)
        return httpx.Timeout(total, connect=min(total, 5.0))

    def capabilities(self, **fields: Any) -> Capabilities:
        """Capabilities with `signature` (unless given) and `rate_per_second` taken from options."""
        if "signature" not in fields:
            fields["signature"] = self.optional_string("signature")
        return Capabilities(rate_per_second=self.number("rate_per_second", 0.0), **fields)


# --- webhooks ------------------------------------------------------------------------------


def check_token(req: WebhookRequest, token: str) -> None:
    """Accept a request carrying `token` as ?token= (403 otherwise).

    For providers that sign nothing (Kannel, Aliyun and Tencent pushes) the secret URL is the
    only protection; the comparison is constant-time. Only the query counts: our webhook paths
    end in `/inbound` or `/receipt`, so reading the token from the path would let a token of
    `receipt` pass every request.
    """
    given = req.query.get("token", "")
    if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        raise WebhookError(403, "bad or missing token")


def body_text(req: WebhookRequest) -> str:
    """The body decoded as UTF-8, or 400."""
    try:
        return req.body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookError(400, "body is not UTF-8") from None


def json_body(req: WebhookRequest) -> Any:
    """The body parsed as JSON, or 400; lone surrogates in its strings become U+FFFD.

    JSON may escape half of a UTF-16 pair on its own ("\\ud83d": a provider that cut an emoji
    in two). That is valid JSON but no text: no database stores it, and refusing the request
    would lose the farmer's message over one broken character. So it is kept, mended.
    """
    text = body_text(req)
    try:
        data = json.loads(text)
    except ValueError:
        raise WebhookError(400, "body is not valid JSON") from None
    return mend_surrogates(data) if "\\u" in text else data   # strict UTF-8 cannot carry them otherwise


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def mend_text(text: str) -> str:
    """The text with every lone surrogate (half a UTF-16 pair) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def mend_surrogates(value: Any) -> Any:
    """Decoded JSON with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return mend_text(value)
    if isinstance(value, list):
        return [mend_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {mend_surrogates(k): mend_surrogates(v) for k, v in value.items()}
    return value


def json_objects(req: WebhookRequest) -> list[Mapping[str, Any]]:
    """A JSON array of objects (Aliyun and Tencent push batches), or 400."""
    data = json_body(req)
    if not isinstance(data, list):
        raise WebhookError(400, "expected a JSON array")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise WebhookError(400, f"item {index}: expected a JSON object")
    return data


def form_body(req: WebhookRequest) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body, every value kept, or 400."""
    text = body_text(req)
    try:
        return parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise WebhookError(400, "body is not form-encoded") from None


def field(item: Mapping[str, Any], key: str, where: str = "") -> str:
    """A required scalar field as a string (numbers accepted), or 400 naming it."""
    value = item.get(key)
    prefix = f"{where}: " if where else ""
    if value is None or value == "":
        raise WebhookError(400, f"{prefix}missing {key}")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WebhookError(400, f"{prefix}{key} must be a string")
    return str(value)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)   # provider times outside [EARLIEST, LATEST) are refused:
LATEST = datetime(2100, 1, 1, tzinfo=UTC)     # nothing sent them, and some cannot even be shown in local time


def plausible(when: datetime, value: object, where: str) -> datetime:
    """`when` if a provider could have meant it, else WebhookError(400) naming the raw value."""
    if not EARLIEST <= when < LATEST:
        raise WebhookError(400, f"{where}: time out of range {value!r}")
    return when


def china_time(value: str, where: str) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM:SS' in Beijing time (Aliyun, Tencent) into an aware UTC datetime."""
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
        return plausible(local.astimezone(UTC), value, where)
    except (ValueError, OverflowError):   # year 1 in Beijing time has no UTC: OverflowError
        raise WebhookError(400, f"{where}: bad time {value!r}") from None


def epoch_time(value: str, where: str) -> datetime:
    """Parse Unix seconds into an aware UTC datetime, or 400."""
    try:
        when = datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookError(400, f"{where}: bad time {value!r}") from None
    return plausible(when, value, where)


def json_ack(payload: Mapping[str, Any]) -> tuple[int, str, bytes]:
    """A 200 JSON answer, UTF-8, non-ASCII kept literal (Aliyun expects '接收成功')."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return 200, "application/json; charset=utf-8", body


# --- sending -------------------------------------------------------------------------------


def mask_phone(number: str) -> str:
    """Hide the middle of a phone number for logs: 13912345678 -> 139****5678."""
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"


def e164(number: str, country_code: str = "86") -> str:
    """Write a number in E.164; a bare 11-digit mainland mobile gets +86."""
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    if len(number) == 11 and number.startswith("1") and number.isdigit():
        return f"+{country_code}{number}"
    return "+" + number


def missing_params(keys: list[str], params: Mapping[str, str]) -> SendError | None:
    """A non-retryable SendError when a template parameter is absent, else None."""
    absent = [key for key in keys if key not in params]
    if absent:
        message = f"template parameters missing: {', '.join(absent)}"
        return SendError("missing_param", message, retryable=False)
    return None


async def call(client: httpx.AsyncClient, request: httpx.Request, timeout: httpx.Timeout) -> httpx.Response:
    """Send one request; a timeout or a connection failure becomes a retryable SendError.

    A timeout may hide a message the provider did accept (none of them is idempotent), so
    its code says so and the outbox can choose to check before resending.
    """
    request.extensions["timeout"] = timeout.as_dict()
    try:
        return await client.send(request)
    except httpx.TimeoutException as exc:
        raise SendError("timeout", f"no answer in time: {exc!r}", retryable=True) from exc
    except httpx.TransportError as exc:
        raise SendError("connection_error", repr(exc), retryable=True) from exc


def response_json(response: httpx.Response) -> Any:
    """A provider's JSON answer, or a SendError (retryable on 5xx, else not)."""
    try:
        return response.json()
    except ValueError:
        retry = response.status_code >= 500
        raise SendError(f"http_{response.status_code}", "answer is not JSON", retryable=retry) from None


def billed_segments(signature: str, text: str) -> int:
    """Segments a text costs: the mainland rule when a signature is billed, else the GSM rule."""
    if signature:
        return mainland_segments(signature, text)
    return count_segments(text).segments


def template_missing(template_key: str) -> SendError:
    """The non-retryable SendError for a template key the provider has no template for."""
    return SendError("template_missing", f"no provider template for {template_key!r}", retryable=False)
