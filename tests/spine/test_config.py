"""Configuration: documented keys, clear errors naming the key, env overrides, secrets."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from farmer_mailbox.config import SECTIONS, ConfigError, build_config, env_var, load_config, resolve_secrets

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_every_config_field_is_documented_in_the_example() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    text = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            assert f.name in raw.get(section, {}), f"[{section}] {f.name} missing from config.example.toml"
            line = next(i for i, t in enumerate(text) if t.startswith(f"{f.name} ="))
            assert text[line - 1].startswith("#"), f"[{section}] {f.name} has no comment above it"


def test_the_example_loads_and_matches_the_defaults() -> None:
    config = load_config(EXAMPLE, env={})
    defaults = build_config({}, env={})
    for section in SECTIONS:
        assert getattr(config, section) == getattr(defaults, section), section


@pytest.mark.parametrize(("raw", "message"), [
    ({"service": {"port": "abc"}}, "service.port: expected an integer, got 'abc'"),
    ({"service": {"port": 70000}}, "service.port: expected a port number 1-65535"),
    ({"outbox": {"quiet_start": "25:00"}}, "outbox.quiet_start: expected a time of day as HH:MM"),
    ({"matching": {"privacy_mode": "open"}}, "matching.privacy_mode: expected one of consent, direct"),
    ({"service": {"demo": "maybe"}}, "service.demo: expected true or false"),
    ({"service": {"colour": "red"}}, "service.colour: unknown key"),
    ({"servce": {}}, "servce: unknown section"),
    ({"routes": {"replies": ["nope"]}}, "routes.replies: expected a configured gateway"),
    ({"gateways": {"x": {"url": "u"}}, "routes": {"replies": ["x"]}}, "gateways.x.type"),
])
def test_bad_values_stop_with_the_key_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(raw, env={})
    assert message in str(info.value)


def test_environment_overrides_any_key() -> None:
    env = {env_var("service", "port"): "9091", env_var("routes", "replies"): "console",
           env_var("outbox", "per_recipient_day"): "3", env_var("gateways_console", "type"): "console"}
    config = build_config({}, env=env)
    assert config.service.port == 9091
    assert config.outbox.per_recipient_day == 3
    assert env_var("service", "port") == "FARMER_MAILBOX_SERVICE_PORT"


def test_env_override_is_validated_too() -> None:
    with pytest.raises(ConfigError, match=r"service\.port"):
        build_config({}, env={"FARMER_MAILBOX_SERVICE_PORT": "eighty"})


def test_secrets_come_from_named_variables() -> None:
    assert resolve_secrets("gateways.k", {"password_env": "KPW", "user": "u"}, {"KPW": "s3"}) == {
        "password": "s3", "user": "u"}
    with pytest.raises(ConfigError, match=r"gateways\.k\.password_env: environment variable KPW is not set"):
        resolve_secrets("gateways.k", {"password_env": "KPW"}, {})


def test_missing_or_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[service\nport = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, env={})


# --- environment overrides of gateway options ------------------------------------------------

KANNEL = {"type": "kannel", "sendsms_url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "u",
          "password_env": "KPW", "webhook_token_env": "KTOKEN", "dlr_url": "http://127.0.0.1:8080/hooks/k/receipt",
          "max_messages": 10}
KANNEL_ENV = {"KPW": "pw", "KTOKEN": "tok"}


def kannel_config(env: dict[str, str], **options: object) -> dict[str, object]:
    raw = {"gateways": {"k": KANNEL | options}, "routes": {"replies": ["k"], "matches": ["k"], "alerts": ["k"]}}
    return dict(build_config(raw, env=KANNEL_ENV | env).gateways["k"])


async def test_a_gateway_option_from_the_environment_takes_the_options_type() -> None:
    import httpx

    from farmer_mailbox.config import Config
    from farmer_mailbox.gateway_setup import build_gateways

    env = {"FARMER_MAILBOX_GATEWAYS_K_MAX_MESSAGES": "20",       # in the file: its type (int)
           "FARMER_MAILBOX_GATEWAYS_K_DLR_MASK": "3",             # absent from the file: the declared type
           "FARMER_MAILBOX_GATEWAYS_K_TIMEOUT": "2.5",
           "FARMER_MAILBOX_GATEWAYS_K_SMSC": "12345"}             # absent, a string that looks like a number
    options = kannel_config(env)
    assert (options["max_messages"], options["dlr_mask"], options["timeout"], options["smsc"]) == (20, 3, 2.5, "12345")
    raw = {"gateways": {"k": KANNEL}, "routes": {"replies": ["k"], "matches": ["k"], "alerts": ["k"]}}
    config: Config = build_config(raw, env=KANNEL_ENV | env)
    async with httpx.AsyncClient() as client:
        gateway = build_gateways(config, client, KANNEL_ENV)["k"]   # the gateway accepts what the env gave
    assert gateway.capabilities() is not None


def test_gateway_lists_and_tables_can_come_from_the_environment() -> None:
    raw = {"gateways": {"m": {"type": "memory"}, "a": {"type": "aliyun", "templates": {"help": "SMS_1"}}}}
    config = build_config(raw | {"routes": {"replies": ["m"], "matches": ["m"], "alerts": ["m"]}}, env={
        "FARMER_MAILBOX_GATEWAYS_M_TEMPLATES": '["help", "unknown"]',
        "FARMER_MAILBOX_GATEWAYS_A_TEMPLATES": '{ help = "SMS_2", unknown = "SMS_3" }',
        "FARMER_MAILBOX_GATEWAYS_M_RATE_PER_SECOND": "5"})
    assert config.gateways["m"]["templates"] == ["help", "unknown"]
    assert config.gateways["a"]["templates"] == {"help": "SMS_2", "unknown": "SMS_3"}
    assert config.gateways["m"]["rate_per_second"] == 5.0


@pytest.mark.parametrize(("env", "message"), [
    ({"FARMER_MAILBOX_GATEWAYS_K_MAX_MESSAGES": "many"}, "gateways.k.max_messages: expected an integer, got 'many'"),
    ({"FARMER_MAILBOX_GATEWAYS_K_DLR_MASK": "3.5"}, "gateways.k.dlr_mask: expected an integer"),
    ({"FARMER_MAILBOX_GATEWAYS_K_TIMEOUT": "inf"}, "gateways.k.timeout: expected a finite number"),
    ({"FARMER_MAILBOX_GATEWAYS_K_STATUS_MAP": "{ x = "}, "gateways.k.status_map: expected a TOML value"),
])
def test_a_bad_gateway_option_in_the_environment_names_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        kannel_config(env)
    assert message in str(info.value)


def test_env_overrides_of_absent_gateway_options_take_the_declared_kind(tmp_path: Path) -> None:
    """Every numeric or boolean option a built-in gateway declares is read as its kind from the environment."""
    from gateways import BUILTIN_GATEWAYS, find_factory
    from gateways.options import declared_options

    samples = {"integer": ("7", 7), "number": ("2.5", 2.5), "boolean": ("true", True)}
    checked = 0
    for gateway_type in BUILTIN_GATEWAYS:
        for name, option in (declared_options(find_factory(gateway_type)) or {}).items():
            if option.kind not in samples:
                continue
            text, want = samples[option.kind]
            path = tmp_path / "c.toml"
            path.write_text(f'[gateways.console]\ntype = "{gateway_type}"\n', encoding="utf-8")
            config = load_config(path, env={f"FARMER_MAILBOX_GATEWAYS_CONSOLE_{name.upper()}": text})
            assert config.gateways["console"][name] == want, (gateway_type, name)
            checked += 1
    assert checked >= 10


# --- unknown environment variables -------------------------------------------------------------

@pytest.mark.parametrize(("var", "message"), [
    ("FARMER_MAILBOX_SERVICE_NOSUCH", "[service] has no such key"),
    ("FARMER_MAILBOX_SERVICE_PROT", "[service] has no such key (known: host, port"),
    ("FARMER_MAILBOX_GATEWAYS_NOPE_TYPE", "no configured gateway has that name (gateways: console)"),
    ("FARMER_MAILBOX_SERVCE_PORT", "expected FARMER_MAILBOX_<SECTION>_<KEY>"),
])
def test_a_misspelled_environment_setting_stops_start_up(var: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config({}, env={var: "1"})
    assert f"environment variable {var}: not a setting" in str(info.value) and message in str(info.value)


def test_our_own_variables_that_are_not_settings_are_fine() -> None:
    raw = {"gateways": {"k": KANNEL | {"password_env": "FARMER_MAILBOX_KANNEL_PASSWORD"}},
           "routes": {"replies": ["k"], "matches": ["k"], "alerts": ["k"]}}
    env = {"FARMER_MAILBOX_ID_KEY": "x", "FARMER_MAILBOX_REQUIRE_KANNEL": "1", "KTOKEN": "t",
           "FARMER_MAILBOX_KANNEL_PASSWORD": "pw", "FARMER_MAILBOX_GATEWAYS_K_USERNAME": "v"}
    assert build_config(raw, env=env).gateways["k"]["username"] == "v"


# --- values checked at start -------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "message"), [
    ({"service": {"timezone": "Mars/Base"}}, "service.timezone: expected an IANA time zone such as Asia/Shanghai"),
    ({"service": {"public_url": "mailbox.example.com"}}, "service.public_url: expected an http:// or https:// URL"),
    ({"service": {"host": "http://0.0.0.0"}}, "service.host: expected a bind address"),
    ({"service": {"database": ""}}, "service.database: expected a file path"),
    ({"outbox": {"max_age_hours": float("inf")}}, "outbox.max_age_hours: expected a finite number"),
    ({"outbox": {"lease_seconds": float("nan")}}, "outbox.lease_seconds: expected a finite number"),
    ({"outbox": {"max_age_hours": 1e9}}, "outbox.max_age_hours: expected hours greater than 0 and at most 8760"),
    ({"outbox": {"quiet_end": "7:00"}}, "outbox.quiet_end: expected a time of day as HH:MM"),
    ({"outbox": {"backoff_base_seconds": 60, "backoff_max_seconds": 30}},
     "outbox.backoff_max_seconds: expected at least outbox.backoff_base_seconds (60)"),
    ({"matching": {"reminder_days": 30}}, "matching.reminder_days: expected fewer than matching.posting_days (30)"),
    ({"matching": {"posting_days": 0}}, "matching.posting_days: expected days greater than 0"),
    ({"weather": {"forecast_base_url": "ftp://api.open-meteo.com"}}, "weather.forecast_base_url: expected an http://"),
    ({"weather": {"qweather_base_url": "abc.qweatherapi.com"}}, "weather.qweather_base_url: expected an http://"),
    ({"wechat": {"window_hours": 72}}, "wechat.window_hours: expected hours (WeChat allows 48)"),
    ({"wechat": {"gateway": "wx"}}, "wechat.gateway: expected a configured gateway (console), got 'wx'"),
    ({"routes": {"replies": ["console", ""]}}, "routes.replies: expected names without empty entries"),
    ({"sms": {"signature": "【" + "农" * 30 + "】"}}, "sms.signature: expected a signature of at most 20 characters"),
])
def test_more_bad_values_stop_with_the_key_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(raw, env={})
    assert message in str(info.value)


def test_a_database_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"service\.database: expected a file path, not a directory"):
        build_config({"service": {"database": str(tmp_path)}}, env={})


def test_a_bad_time_zone_stops_check_config_with_the_key_named(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from farmer_mailbox.cli import main

    path = tmp_path / "tz.toml"
    path.write_text('[service]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    assert main(["--config", str(path), "check-config"]) == 2
    assert main(["--config", str(path), "serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("configuration error: service.timezone: expected an IANA time zone") == 2
    assert "Traceback" not in err


@pytest.mark.parametrize(("data", "message"), [
    (b"[service]\nport = 1\n# caf\xe9\n", "not UTF-8 text (byte 0xe9 at offset 24)"),
    (bytes(range(256)), "not UTF-8 text (byte 0x80 at offset 128)"),
    (None, "cannot read it (Is a directory)"),
], ids=["latin-1", "binary", "directory"])
def test_a_config_file_that_is_no_utf8_text_or_a_directory_is_a_clear_error(
        tmp_path: Path, data: bytes | None, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from farmer_mailbox.cli import main

    path = tmp_path / "config.toml"
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path, env={})
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"configuration error: config file {path}: {message}") and "\n" not in err   # unwrapped


def test_a_missing_config_file_is_named_as_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", env={})
    assert str(info.value) == f"config file {tmp_path / 'nope.toml'} does not exist"   # not "not valid TOML (...)"


@pytest.mark.parametrize("text", ["99999999999999999999", "9223372036854775808", "-9223372036854775809",
                                  "9" * 5000, "0" * 30 + "9" * 20])
def test_an_integer_beyond_what_sqlite_binds_is_refused_at_start(text: str) -> None:
    with pytest.raises(ConfigError, match=r"outbox\.batch_size: expected an integer of at most 9223372036854775807"):
        build_config({}, env={"FARMER_MAILBOX_OUTBOX_BATCH_SIZE": text})
    if len(text) < 100:
        with pytest.raises(ConfigError, match=r"outbox\.batch_size: expected an integer of at most"):
            build_config({"outbox": {"batch_size": int(text)}}, env={})


def test_the_largest_integer_sqlite_binds_is_accepted() -> None:
    assert build_config({}, env={"FARMER_MAILBOX_OUTBOX_BATCH_SIZE": "0009223372036854775807"}).outbox.batch_size \
        == 2**63 - 1


def test_a_toml_integer_of_thousands_of_digits_is_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("[outbox]\nbatch_size = " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={})


def test_a_database_path_with_a_nul_character_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"service\.database: expected a file path"):
        build_config({"service": {"database": "var/a\x00b.db"}}, env={})
