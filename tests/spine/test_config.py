"""Configuration: documented keys, clear errors naming the key, env overrides, secrets."""

from __future__ import annotations

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
