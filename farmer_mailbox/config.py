"""Configuration: TOML into frozen dataclasses, defaults in code, env overrides, checked once.

Every key has a default here and a comment in config.example.toml (a test keeps them in step).
Any key can be overridden by `FARMER_MAILBOX_<SECTION>_<KEY>` (config_env.py; a misspelled one is
an error); secrets never sit in the file: keys ending in `_env` name the environment variable that
holds them. A bad value stops start-up with a `ConfigError` naming the key and what was expected
(the checks: config_values.py).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from farmer_mailbox import config_values as checks
from farmer_mailbox.config_env import ENV_PREFIX as ENV_PREFIX
from farmer_mailbox.config_env import build_gateways, check_env_names
from farmer_mailbox.config_env import env_var as env_var
from farmer_mailbox.config_values import Check, coerce
from farmer_mailbox.config_values import ConfigError as ConfigError


def _opt(default: Any, help_text: str, check: Check | None = None) -> Any:
    """Declare a config field with its default, a one-line help, and an optional check."""
    meta = {"help": help_text, "check": check}
    if isinstance(default, list):
        items: list[Any] = list(default)
        return field(default_factory=items.copy, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ServiceSection:
    """Where the service listens and keeps its data."""

    host: str = _opt("127.0.0.1", "address the HTTP server binds", checks.host)
    port: int = _opt(8080, "port the HTTP server binds", checks.port)
    database: str = _opt("var/farmer-mailbox.db", "SQLite database file (created if missing)", checks.file_path)
    demo: bool = _opt(False, "demo mode: built-in ID key and demo data; never in production")
    public_url: str = _opt("http://127.0.0.1:8080", "URL providers use to reach our webhooks", checks.url)
    timezone: str = _opt("Asia/Shanghai", "zone used for quiet hours, days and display", checks.zone)
    log_level: str = _opt("INFO", "logging level", checks.one_of("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True)
class SecuritySection:
    """Keys that protect personal data."""

    id_key_env: str = _opt(
        "FARMER_MAILBOX_ID_KEY", "env var holding the base64 32-byte key for ID numbers", checks.env_name
    )


@dataclass(frozen=True)
class SmsSection:
    """What every SMS carries and costs."""

    signature: str = _opt("【农民信箱】", "signature providers prepend and bill", checks.signature)
    price_per_segment: float = _opt(0.05, "yuan billed per SMS segment", checks.non_negative)


@dataclass(frozen=True)
class OutboxSection:
    """How the durable outbox dispatches."""

    quiet_start: str = _opt("21:00", "start of quiet hours (local time): non-urgent waits", checks.hhmm)
    quiet_end: str = _opt("07:00", "end of quiet hours (local time)", checks.hhmm)
    max_age_hours: float = _opt(24.0, "a message not sent within this many hours expires",
                                checks.between(0, 8760, "hours"))
    backoff_base_seconds: float = _opt(5.0, "first retry delay; doubles each attempt",
                                       checks.between(0, 86400, "seconds"))
    backoff_max_seconds: float = _opt(900.0, "longest retry delay", checks.between(0, 86400, "seconds"))
    per_recipient_hour: int = _opt(6, "non-urgent messages per recipient per hour", checks.positive)
    per_recipient_day: int = _opt(20, "non-urgent messages per recipient per day", checks.positive)
    batch_size: int = _opt(200, "rows claimed per dispatcher round", checks.positive)
    concurrency: int = _opt(64, "sends in flight at once", checks.positive)
    lease_seconds: float = _opt(120.0, "a claimed row not finished in this time is retried",
                                checks.between(0, 86400, "seconds"))
    poll_seconds: float = _opt(0.5, "how often an idle dispatcher looks for due rows",
                               checks.between(0, 3600, "seconds"))


@dataclass(frozen=True)
class RoutesSection:
    """Which gateways carry which purpose, in fallback order."""

    replies: list[str] = _opt(["console"], "gateways for replies to a farmer who just wrote", checks.names)
    matches: list[str] = _opt(["console"], "gateways for match notices", checks.names)
    alerts: list[str] = _opt(["console"], "gateways for bureau alerts", checks.names)


@dataclass(frozen=True)
class MatchingSection:
    """Postings and the conversation around matches."""

    privacy_mode: str = _opt("consent", "contact sharing: consent or direct", checks.one_of("consent", "direct"))
    posting_days: int = _opt(30, "an open posting expires after this many days", checks.between(0, 3650, "days"))
    reminder_days: int = _opt(2, "days before expiry the poster is reminded", checks.non_negative)
    match_sms_per_day: int = _opt(5, "match notices per user per day; the rest are folded", checks.positive)
    list_size: int = _opt(3, "matches listed in one reply", checks.positive)
    price_days: int = _opt(30, "postings this recent count for price queries (JG)", checks.between(0, 3650, "days"))
    notify_limit: int = _opt(10, "counterparties told about one new posting by SMS at once (best first)",
                             checks.positive)
    max_matches_stored: int = _opt(20, "matches stored per new posting (best first); more are shown as N+",
                                   checks.between(0, 1000, "matches"))
    digest_time: str = _opt("20:00", "local time of the digest of match notices folded by the daily cap", checks.hhmm)
    upkeep_seconds: float = _opt(60.0, "how often expiry, reminders, digests and index sync run",
                                  checks.between(0, 86400, "seconds"))


@dataclass(frozen=True)
class AlertsSection:
    """Bureau alerts: budgets, expiry, scheduling, fan-out, the pest calendar."""

    monthly_budget_yuan: float = _opt(20000.0, "each county bureau's monthly alert budget in yuan (0: none)",
                                      checks.non_negative)
    urgent_over_budget: str = _opt("hold", "orange/red warnings over budget: hold (an admin confirms) or send",
                                   checks.one_of("hold", "send"))
    default_expiry_hours: float = _opt(24.0, "an alert's copies not sent within this many hours expire",
                                       checks.between(0, 8760, "hours"))
    due_check_seconds: float = _opt(15.0, "how often scheduled alerts are checked and fanned out",
                                    checks.between(0, 3600, "seconds"))
    fanout_chunk: int = _opt(50000, "user ids per fan-out transaction for large audiences", checks.positive)
    pest_calendar: bool = _opt(True, "draft pest alerts from the pest calendar for officers to approve")
    pest_calendar_time: str = _opt("06:30", "local time the pest calendar drafts each day", checks.hhmm)
    pest_lead_days: int = _opt(7, "days before a pest season starts that its draft appears", checks.non_negative)


@dataclass(frozen=True)
class WeatherSection:
    """Official warnings (polled) and next-day forecasts."""

    warning_source: str = _opt("none", "official warning feed: none or qweather", checks.one_of("none", "qweather"))
    qweather_api: str = _opt("v1", "QWeather warning API: v1 (weatheralert) or v7 (warning/now)",
                             checks.one_of("v1", "v7"))
    qweather_base_url: str = _opt("", "your QWeather API Host, e.g. https://abc.qweatherapi.com", checks.url_or_empty)
    qweather_key_env: str = _opt("QWEATHER_API_KEY", "env var holding the QWeather API KEY", checks.env_name)
    areas: list[str] = _opt([], "areas to watch: region codes, optionally =LOCATION (LocationID or lon,lat)")
    poll_seconds: float = _opt(300.0, "how often the warning feed is polled", checks.between(0, 86400, "seconds"))
    min_colour: str = _opt("blue", "lowest warning colour sent on", checks.one_of("blue", "yellow", "orange", "red"))
    lift_notice: bool = _opt(True, "tell recipients when a warning they got is lifted")
    forecast_provider: str = _opt("open-meteo", "next-day forecast source: none or open-meteo",
                                  checks.one_of("none", "open-meteo"))
    forecast_base_url: str = _opt("https://api.open-meteo.com", "base URL of the Open-Meteo-style forecast API",
                                   checks.url)
    digest_time: str = _opt("18:00", "local time the daily forecast goes to users who asked for it", checks.hhmm)


@dataclass(frozen=True)
class WechatSection:
    """The WeChat Official Account channel (credentials live in its [gateways.NAME] table)."""

    gateway: str = _opt("", "the wechat gateway serving /wechat (empty: the only one configured)")
    passive_reply_seconds: float = _opt(3.5, "wait this long for an answer to return it as a passive reply",
                                        checks.passive_budget)
    window_hours: float = _opt(48.0, "customer-service window after a user's last WeChat message",
                               checks.between(0, 48, "hours (WeChat allows 48)"))
    code_minutes: float = _opt(10.0, "a binding code expires after this many minutes",
                               checks.between(0, 1440, "minutes"))
    code_attempts: int = _opt(5, "wrong binding codes before binding is locked for the openid", checks.positive)
    lock_minutes: float = _opt(60.0, "how long binding stays locked after too many wrong codes",
                               checks.between(0, 10080, "minutes"))
    code_resend_seconds: float = _opt(60.0, "an openid may ask for a new code this often", checks.non_negative)
    code_per_phone_minute: int = _opt(1, "binding codes one phone may get in any minute (any openid)", checks.positive)
    code_per_phone_hour: int = _opt(5, "binding codes one phone may get in any hour", checks.positive)
    code_per_phone_day: int = _opt(10, "binding codes one phone may get in any 24 hours", checks.positive)


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
        values[f.name] = coerce(key, hints[f.name], value)
        check = f.metadata.get("check")
        problem = check(values[f.name]) if check else None
        if problem:
            raise ConfigError(f"{key}: expected {problem}, got {values[f.name]!r}")
    return cls(**values)


def _check_routes(config: Config) -> None:
    for purpose in ("replies", "matches", "alerts"):
        names = getattr(config.routes, purpose)
        if not names:
            raise ConfigError(f"routes.{purpose}: expected at least one gateway name")
        for gw in names:
            if gw not in config.gateways:
                known = ", ".join(sorted(config.gateways))
                raise ConfigError(f"routes.{purpose}: expected a configured gateway ({known}), got {gw!r}")


def _check_together(config: Config) -> None:
    """Settings that are each fine alone but contradict each other."""
    outbox, matching, wechat = config.outbox, config.matching, config.wechat
    if outbox.backoff_max_seconds < outbox.backoff_base_seconds:
        raise ConfigError(f"outbox.backoff_max_seconds: expected at least outbox.backoff_base_seconds "
                          f"({outbox.backoff_base_seconds:g}), got {outbox.backoff_max_seconds:g}")
    if matching.reminder_days >= matching.posting_days:
        raise ConfigError(f"matching.reminder_days: expected fewer than matching.posting_days "
                          f"({matching.posting_days}), got {matching.reminder_days}")
    if wechat.gateway and wechat.gateway not in config.gateways:
        known = ", ".join(sorted(config.gateways))
        raise ConfigError(f"wechat.gateway: expected a configured gateway ({known}), got {wechat.gateway!r}")


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
    gateways = build_gateways(raw.get("gateways"), env)
    check_env_names(raw, env, list(gateways), SECTIONS)
    config = Config(**sections, gateways=gateways, source=source)
    _check_routes(config)
    _check_together(config)
    return config


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load `path` (or ./config.toml when present, else built-in defaults) with env overrides."""
    if path is None:
        default = Path("config.toml")
        if not default.exists():
            return build_config({}, env)
        path = default
    path = Path(path)
    text = _config_text(path)   # outside the try: its ConfigError is a ValueError too
    try:
        raw = tomllib.loads(text)
    except ValueError as exc:   # TOMLDecodeError, or an integer of thousands of digits
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    return build_config(raw, env, source=str(path))


def _config_text(path: Path) -> str:
    """The text of a config file; ConfigError when it is missing, unreadable or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:   # a directory, no permission
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start}); TOML files are UTF-8") from None


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
