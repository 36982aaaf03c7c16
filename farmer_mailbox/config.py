"""Configuration: TOML into frozen dataclasses, defaults in code, env overrides, checked once.

Every key has a default here and a comment in config.example.toml (a test keeps them in step).
Any key can be overridden by `FARMER_MAILBOX_<SECTION>_<KEY>`; secrets never sit in the file:
keys ending in `_env` name the environment variable that holds them. A bad value stops start-up
with a `ConfigError` naming the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

ENV_PREFIX = "FARMER_MAILBOX"


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


Check = Callable[[Any], str | None]


def _opt(default: Any, help_text: str, check: Check | None = None) -> Any:
    """Declare a config field with its default, a one-line help, and an optional check."""
    meta = {"help": help_text, "check": check}
    if isinstance(default, list):
        items: list[Any] = list(default)
        return field(default_factory=items.copy, metadata=meta)
    return field(default=default, metadata=meta)


def _port(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "a port number 1-65535"


def _positive(value: float) -> str | None:
    return None if value > 0 else "a number greater than 0"


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else "a number 0 or greater"


def _hhmm(value: str) -> str | None:
    return None if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value) else "a time of day as HH:MM"


def _one_of(*allowed: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in allowed else "one of " + ", ".join(allowed)

    return check


def _env_name(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Z_][A-Z0-9_]*", value) else "an environment variable name"


@dataclass(frozen=True)
class ServiceSection:
    """Where the service listens and keeps its data."""

    host: str = _opt("127.0.0.1", "address the HTTP server binds")
    port: int = _opt(8080, "port the HTTP server binds", _port)
    database: str = _opt("var/farmer-mailbox.db", "SQLite database file (created if missing)")
    demo: bool = _opt(False, "demo mode: built-in ID key and demo data; never in production")
    public_url: str = _opt("http://127.0.0.1:8080", "URL providers use to reach our webhooks")
    timezone: str = _opt("Asia/Shanghai", "zone used for quiet hours, days and display")
    log_level: str = _opt("INFO", "logging level", _one_of("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True)
class SecuritySection:
    """Keys that protect personal data."""

    id_key_env: str = _opt(
        "FARMER_MAILBOX_ID_KEY", "env var holding the base64 32-byte key for ID numbers", _env_name
    )


@dataclass(frozen=True)
class SmsSection:
    """What every SMS carries and costs."""

    signature: str = _opt("【农民信箱】", "signature providers prepend and bill")
    price_per_segment: float = _opt(0.05, "yuan billed per SMS segment", _non_negative)


@dataclass(frozen=True)
class OutboxSection:
    """How the durable outbox dispatches."""

    quiet_start: str = _opt("21:00", "start of quiet hours (local time): non-urgent waits", _hhmm)
    quiet_end: str = _opt("07:00", "end of quiet hours (local time)", _hhmm)
    max_age_hours: float = _opt(24.0, "a message not sent within this many hours expires", _positive)
    backoff_base_seconds: float = _opt(5.0, "first retry delay; doubles each attempt", _positive)
    backoff_max_seconds: float = _opt(900.0, "longest retry delay", _positive)
    per_recipient_hour: int = _opt(6, "non-urgent messages per recipient per hour", _positive)
    per_recipient_day: int = _opt(20, "non-urgent messages per recipient per day", _positive)
    batch_size: int = _opt(200, "rows claimed per dispatcher round", _positive)
    concurrency: int = _opt(64, "sends in flight at once", _positive)
    lease_seconds: float = _opt(120.0, "a claimed row not finished in this time is retried", _positive)
    poll_seconds: float = _opt(0.5, "how often an idle dispatcher looks for due rows", _positive)


@dataclass(frozen=True)
class RoutesSection:
    """Which gateways carry which purpose, in fallback order."""

    replies: list[str] = _opt(["console"], "gateways for replies to a farmer who just wrote")
    matches: list[str] = _opt(["console"], "gateways for match notices")
    alerts: list[str] = _opt(["console"], "gateways for bureau alerts")


@dataclass(frozen=True)
class MatchingSection:
    """Postings and the conversation around matches."""

    privacy_mode: str = _opt("consent", "contact sharing: consent or direct", _one_of("consent", "direct"))
    posting_days: int = _opt(30, "an open posting expires after this many days", _positive)
    reminder_days: int = _opt(2, "days before expiry the poster is reminded", _non_negative)
    match_sms_per_day: int = _opt(5, "match notices per user per day; the rest are folded", _positive)
    list_size: int = _opt(3, "matches listed in one reply", _positive)
    price_days: int = _opt(30, "postings this recent count for price queries (JG)", _positive)
    notify_limit: int = _opt(10, "counterparties told about one new posting by SMS at once (best first)", _positive)
    max_matches_stored: int = _opt(20, "matches stored per new posting (best first); more are shown as N+",
                                   _positive)
    digest_time: str = _opt("20:00", "local time of the digest of match notices folded by the daily cap", _hhmm)
    upkeep_seconds: float = _opt(60.0, "how often expiry, reminders, digests and index sync run", _positive)


@dataclass(frozen=True)
class AlertsSection:
    """Bureau alerts: budgets, expiry, scheduling, fan-out, the pest calendar."""

    monthly_budget_yuan: float = _opt(20000.0, "each county bureau's monthly alert budget in yuan (0: none)",
                                      _non_negative)
    default_expiry_hours: float = _opt(24.0, "an alert's copies not sent within this many hours expire", _positive)
    due_check_seconds: float = _opt(15.0, "how often scheduled alerts are checked and fanned out", _positive)
    fanout_chunk: int = _opt(50000, "user ids per fan-out transaction for large audiences", _positive)
    pest_calendar: bool = _opt(True, "draft pest alerts from the pest calendar for officers to approve")
    pest_calendar_time: str = _opt("06:30", "local time the pest calendar drafts each day", _hhmm)
    pest_lead_days: int = _opt(7, "days before a pest season starts that its draft appears", _non_negative)


@dataclass(frozen=True)
class WeatherSection:
    """Official warnings (polled) and next-day forecasts."""

    warning_source: str = _opt("none", "official warning feed: none or qweather", _one_of("none", "qweather"))
    qweather_api: str = _opt("v1", "QWeather warning API: v1 (weatheralert) or v7 (warning/now)",
                             _one_of("v1", "v7"))
    qweather_base_url: str = _opt("", "your QWeather API Host, e.g. https://abc.qweatherapi.com")
    qweather_key_env: str = _opt("QWEATHER_API_KEY", "env var holding the QWeather API KEY", _env_name)
    areas: list[str] = _opt([], "areas to watch: region codes, optionally =LOCATION (LocationID or lon,lat)")
    poll_seconds: float = _opt(300.0, "how often the warning feed is polled", _positive)
    min_colour: str = _opt("blue", "lowest warning colour sent on", _one_of("blue", "yellow", "orange", "red"))
    lift_notice: bool = _opt(True, "tell recipients when a warning they got is lifted")
    forecast_provider: str = _opt("open-meteo", "next-day forecast source: none or open-meteo",
                                  _one_of("none", "open-meteo"))
    forecast_base_url: str = _opt("https://api.open-meteo.com", "base URL of the Open-Meteo-style forecast API")
    digest_time: str = _opt("18:00", "local time the daily forecast goes to users who asked for it", _hhmm)


def _passive_budget(value: float) -> str | None:
    return None if 0 <= value <= 4.5 else "seconds from 0 to 4.5 (WeChat gives up after 5)"


@dataclass(frozen=True)
class WechatSection:
    """The WeChat Official Account channel (credentials live in its [gateways.NAME] table)."""

    gateway: str = _opt("", "the wechat gateway serving /wechat (empty: the only one configured)")
    passive_reply_seconds: float = _opt(3.5, "wait this long for an answer to return it as a passive reply",
                                        _passive_budget)
    window_hours: float = _opt(48.0, "customer-service window after a user's last WeChat message", _positive)
    code_minutes: float = _opt(10.0, "a binding code expires after this many minutes", _positive)
    code_attempts: int = _opt(5, "wrong binding codes before binding is locked for the openid", _positive)
    lock_minutes: float = _opt(60.0, "how long binding stays locked after too many wrong codes", _positive)
    code_resend_seconds: float = _opt(60.0, "an openid may ask for a new code this often", _non_negative)


@dataclass(frozen=True)
class Config:
    """The whole configuration; `gateways` maps a gateway name to its raw options."""

    service: ServiceSection = field(default_factory=ServiceSection)
    security: SecuritySection = field(default_factory=SecuritySection)
    sms: SmsSection = field(default_factory=SmsSection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    routes: RoutesSection = field(default_factory=RoutesSection)
    matching: MatchingSection = field(default_factory=MatchingSection)
    alerts: AlertsSection = field(default_factory=AlertsSection)
    weather: WeatherSection = field(default_factory=WeatherSection)
    wechat: WechatSection = field(default_factory=WechatSection)
    gateways: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {"console": {"type": "console"}}
    )
    source: str = "built-in defaults"


SECTIONS: dict[str, type] = {
    name: hint for name, hint in get_type_hints(Config).items() if name not in ("gateways", "source")
}


def _type_name(kind: Any) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        kind, "a list of strings"
    )


def _coerce(key: str, kind: Any, value: Any) -> Any:
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
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is str and isinstance(value, str):
        return value
    raise ConfigError(f"{key}: expected {_type_name(kind)}, got {value!r}")


def env_var(section: str, key: str) -> str:
    """Name the environment variable that overrides `section.key`."""
    clean = re.sub(r"[^A-Za-z0-9]", "_", f"{section}_{key}")
    return f"{ENV_PREFIX}_{clean}".upper()


def _build_section(name: str, cls: type, raw: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for f in fields(cls):
        key = f"{name}.{f.name}"
        value = env.get(env_var(name, f.name), raw.get(f.name, MISSING))
        if value is MISSING:
            continue
        values[f.name] = _coerce(key, hints[f.name], value)
        check = f.metadata.get("check")
        problem = check(values[f.name]) if check else None
        if problem:
            raise ConfigError(f"{key}: expected {problem}, got {values[f.name]!r}")
    return cls(**values)


def _build_gateways(raw: Any, env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {"console": {"type": "console"}}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError("gateways: expected tables like [gateways.NAME] with a type key")
    built: dict[str, dict[str, Any]] = {}
    for name, options in raw.items():
        merged = dict(options)
        for key in options:
            override = env.get(env_var(f"gateways_{name}", key))
            if override is not None:
                merged[key] = override
        if not isinstance(merged.get("type"), str):
            raise ConfigError(f"gateways.{name}.type: expected a gateway type such as console or kannel")
        built[name] = merged
    return built


def _check_routes(config: Config) -> None:
    for purpose in ("replies", "matches", "alerts"):
        names = getattr(config.routes, purpose)
        if not names:
            raise ConfigError(f"routes.{purpose}: expected at least one gateway name")
        for gw in names:
            if gw not in config.gateways:
                known = ", ".join(sorted(config.gateways))
                raise ConfigError(f"routes.{purpose}: expected a configured gateway ({known}), got {gw!r}")


def build_config(
    raw: Mapping[str, Any], env: Mapping[str, str] | None = None, source: str = "built-in defaults"
) -> Config:
    """Build and check a Config from parsed TOML and an environment mapping."""
    env = os.environ if env is None else env
    extra = sorted(set(raw) - set(SECTIONS) - {"gateways"})
    if extra:
        raise ConfigError(f"{extra[0]}: unknown section (known: {', '.join(sorted(SECTIONS))}, gateways)")
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        section_raw = raw.get(name, {})
        if not isinstance(section_raw, dict):
            raise ConfigError(f"{name}: expected a table [{name}]")
        sections[name] = _build_section(name, cls, section_raw, env)
    config = Config(**sections, gateways=_build_gateways(raw.get("gateways"), env), source=source)
    _check_routes(config)
    return config


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load `path` (or ./config.toml when present, else built-in defaults) with env overrides."""
    if path is None:
        default = Path("config.toml")
        if not default.exists():
            return build_config({}, env)
        path = default
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    return build_config(raw, env, source=str(path))


def resolve_secrets(
    where: str, options: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Replace each `<key>_env = "VAR"` option by `<key>` holding the variable's value."""
    env = os.environ if env is None else env
    resolved: dict[str, Any] = {}
    for key, value in options.items():
        if key.endswith("_env") and isinstance(value, str):
            if value not in env:
                raise ConfigError(f"{where}.{key}: environment variable {value} is not set")
            resolved[key.removesuffix("_env")] = env[value]
        else:
            resolved[key] = value
    return resolved


def field_help(cls: type) -> dict[str, str]:
    """Return each field's one-line help text; used to check config.example.toml."""
    return {f.name: f.metadata.get("help", "") for f in fields(cls)}
