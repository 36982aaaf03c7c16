"""Configuration values: what each setting's text becomes (its type) and the checks it must pass.

Pure functions shared by `config` (the sections) and `config_env` (environment overrides); each
check returns what was expected, or None, so the error names the key and the expectation.
"""

from __future__ import annotations

import contextlib
import math
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


Check = Callable[[Any], str | None]


def port(value: int) -> str | None:
    """A TCP port."""
    return None if 1 <= value <= 65535 else "a port number 1-65535"


def positive(value: float) -> str | None:
    """Greater than 0."""
    return None if value > 0 else "a number greater than 0"


def non_negative(value: float) -> str | None:
    """0 or greater."""
    return None if value >= 0 else "a number 0 or greater"


def hhmm(value: str) -> str | None:
    """A time of day, HH:MM."""
    return None if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value) else "a time of day as HH:MM"


def one_of(*allowed: str) -> Check:
    """One of a few words."""
    def check(value: str) -> str | None:
        return None if value in allowed else "one of " + ", ".join(allowed)

    return check


def env_name(value: str) -> str | None:
    """An environment variable's name."""
    return None if re.fullmatch(r"[A-Z_][A-Z0-9_]*", value) else "an environment variable name"


def between(low: float, high: float, unit: str) -> Check:
    """Greater than `low` (exclusive) and at most `high`: durations and counts with a sane ceiling."""
    def check(value: float) -> str | None:
        return None if low < value <= high else f"{unit} greater than {low:g} and at most {high:g}"

    return check


def zone(value: str) -> str | None:
    """An IANA time zone (serve would die on an unknown one)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone such as Asia/Shanghai"
    return None


def url(value: str) -> str | None:
    """An http(s) URL with a host."""
    parts = urlsplit(value)
    ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment
    return None if ok else "an http:// or https:// URL such as https://mailbox.example.com"


def url_or_empty(value: str) -> str | None:
    """An http(s) URL, or empty (not used)."""
    return url(value) if value else None


def host(value: str) -> str | None:
    """A bind address (IPv4, IPv6 or host name)."""
    ok = re.fullmatch(r"[A-Za-z0-9.\-]+|\[?[0-9A-Fa-f:.]+\]?", value) is not None
    return None if ok else "a bind address such as 127.0.0.1, 0.0.0.0 or ::"


def file_path(value: str) -> str | None:
    """A file path that is not a directory."""
    if not value.strip() or "\x00" in value:
        return "a file path such as var/farmer-mailbox.db"
    return "a file path, not a directory" if Path(value).is_dir() else None


def names(value: list[str]) -> str | None:
    """A list of names without empty ones."""
    return None if all(v.strip() for v in value) else "names without empty entries"


def signature(value: str) -> str | None:
    """An SMS signature of a sensible length."""
    return None if len(value) <= 20 else "a signature of at most 20 characters, such as 【农民信箱】"


def passive_budget(value: float) -> str | None:
    """Seconds within WeChat's 5-second limit."""
    return None if 0 <= value <= 4.5 else "seconds from 0 to 4.5 (WeChat gives up after 5)"


INT_LIMIT = 2**63 - 1   # the largest integer SQLite stores


def type_name(kind: Any) -> str:
    """What a value of this field's type looks like, for the error message."""
    return {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}.get(
        kind, "a list of strings"
    )


def _integer(key: str, value: Any) -> int | None:
    """An int from a TOML integer or the digits of an env var; None when it is no integer.

    ConfigError when it is beyond what SQLite binds: a LIMIT or a count that large would stop serve
    at its first use, not at start.
    """
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        digits = value.strip().lstrip("-").lstrip("0")
        number = int(value) if len(digits) <= 19 else None   # int() refuses 4300 digits and more
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return None
    if number is None or abs(number) > INT_LIMIT:
        raise ConfigError(f"{key}: expected an integer of at most {INT_LIMIT}, got a larger one")
    return number


def coerce(key: str, kind: Any, value: Any) -> Any:
    """Turn a TOML or env value into the field's type, or raise ConfigError naming the key."""
    if get_origin(kind) in (Union, types.UnionType):
        kind = next(a for a in get_args(kind) if a is not type(None))
    if get_origin(kind) is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    elif kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
    elif kind is int:
        whole = _integer(key, value)
        if whole is not None:
            return whole
    elif kind is float:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = float(value)
        if number is not None and math.isfinite(number):   # TOML and float() both read inf and nan
            return number
    elif kind is str and isinstance(value, str):
        return value
    raise ConfigError(f"{key}: expected {type_name(kind)}, got {value!r}")
