"""Environment overrides: FARMER_MAILBOX_<SECTION>_<KEY> for settings, FARMER_MAILBOX_GATEWAYS_<NAME>_<KEY>
for gateway options (read as the option's type), and a refusal of prefixed variables that set nothing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from farmer_mailbox.config_values import ConfigError, coerce

ENV_PREFIX = "FARMER_MAILBOX"


def env_var(section: str, key: str) -> str:
    """Name the environment variable that overrides `section.key`."""
    clean = re.sub(r"[^A-Za-z0-9]", "_", f"{section}_{key}")
    return f"{ENV_PREFIX}_{clean}".upper()


# Gateway options whose type cannot be told from a value in the file (the key is absent there):
# what the gateways' option readers expect. Everything else absent from the file is read as a
# string, or as a TOML array / inline table when written like one. A test keeps this in step
# with the `options.integer(...)` / `options.number(...)` calls in gateways/.
GATEWAY_OPTION_TYPES: dict[str, type] = {
    "max_messages": int, "dlr_mask": int, "max_segments": int,
    "timeout": float, "rate_per_second": float, "latency": float,
}


def _toml_value(where: str, text: str) -> Any:
    """Read one TOML value (an array or inline table written in an environment variable)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        raise ConfigError(f"{where}: expected a TOML value such as [\"a\", \"b\"] or {{ k = \"v\" }}, "
                          f"got {text!r}") from None


def _gateway_override(where: str, text: str, current: Any) -> Any:
    """An environment string as the gateway option's type: the file value's type, else the declared one."""
    name = where.rsplit(".", 1)[-1]
    kind: Any = type(current) if current is not None else GATEWAY_OPTION_TYPES.get(name)
    if kind in (int, float, bool, str):
        return coerce(where, kind, text)
    if kind is list or (kind is None and text.lstrip().startswith("[")):
        value = _toml_value(where, text) if text.lstrip().startswith("[") else text
        return coerce(where, list[str], value) if isinstance(value, str) else _list_value(where, value)
    if kind is dict or (kind is None and text.lstrip().startswith("{")):
        value = _toml_value(where, text)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an inline table such as {{ k = \"v\" }}, got {text!r}")
        return value
    return text


def _list_value(where: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array such as [\"a\", \"b\"], got {value!r}")
    return value


def _gateway_env(env: Mapping[str, str], names: list[str]) -> dict[str, dict[str, str]]:
    """FARMER_MAILBOX_GATEWAYS_<NAME>_<KEY> variables per configured gateway (longest name first)."""
    found: dict[str, dict[str, str]] = {name: {} for name in names}
    prefix = f"{ENV_PREFIX}_GATEWAYS_"
    by_length = sorted(names, key=len, reverse=True)
    for var, text in env.items():
        if not var.startswith(prefix):
            continue
        for name in by_length:
            head = env_var(f"gateways_{name}", "")
            if var.startswith(head) and len(var) > len(head):
                found[name][var[len(head):].lower()] = text
                break
    return found


def build_gateways(raw: Any, env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    if raw is None:
        raw = {"console": {"type": "console"}}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError("gateways: expected tables like [gateways.NAME] with a type key")
    overrides = _gateway_env(env, list(raw))
    built: dict[str, dict[str, Any]] = {}
    for name, options in raw.items():
        merged = dict(options)
        for key, text in overrides[name].items():
            merged[key] = _gateway_override(f"gateways.{name}.{key}", text, options.get(key))
        if not isinstance(merged.get("type"), str):
            raise ConfigError(f"gateways.{name}.type: expected a gateway type such as console or kannel")
        built[name] = merged
    return built


# Variables with our prefix that are not settings: the test harness's switch for Kannel tests.
NOT_SETTINGS = frozenset({f"{ENV_PREFIX}_REQUIRE_KANNEL"})


def _secret_names(raw: Mapping[str, Any], env: Mapping[str, str], sections: Mapping[str, type]) -> set[str]:
    """Every variable a `*_env` setting names (its default, the file's value, an override's)."""
    names: set[str] = set()
    for section, cls in sections.items():
        for f in fields(cls):
            if f.name.endswith("_env"):
                names.add(str(f.default))
                names.add(str(raw.get(section, {}).get(f.name, "")))
                names.add(env.get(env_var(section, f.name), ""))
    gateways = raw.get("gateways")
    for options in (gateways.values() if isinstance(gateways, dict) else []):
        if isinstance(options, dict):
            names.update(str(v) for k, v in options.items() if k.endswith("_env"))
    return names


def check_env_names(raw: Mapping[str, Any], env: Mapping[str, str], gateways: list[str],
                    sections: Mapping[str, type]) -> None:
    """Refuse FARMER_MAILBOX_* variables that set nothing (a misspelled setting is silently ignored)."""
    known = {env_var(section, f.name) for section, cls in sections.items() for f in fields(cls)}
    known |= NOT_SETTINGS | _secret_names(raw, env, sections)
    gateway_heads = [env_var(f"gateways_{name}", "") for name in gateways]
    unknown = sorted(
        var for var in env
        if var.startswith(f"{ENV_PREFIX}_") and var not in known
        and not any(var.startswith(head) and len(var) > len(head) for head in gateway_heads)
    )
    if not unknown:
        return
    var = unknown[0]
    rest = var.removeprefix(f"{ENV_PREFIX}_")
    section = next((name for name in sections if rest.startswith(f"{name.upper()}_")), None)
    if section is not None:
        keys = ", ".join(f.name for f in fields(sections[section]))
        hint = f"[{section}] has no such key (known: {keys})"
    elif rest.startswith("GATEWAYS_"):
        hint = f"no configured gateway has that name (gateways: {', '.join(sorted(gateways))})"
    else:
        hint = f"expected {ENV_PREFIX}_<SECTION>_<KEY> with a section of {', '.join(sorted(sections))}, gateways"
    more = f" (and {len(unknown) - 1} more: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
    raise ConfigError(f"environment variable {var}: not a setting; {hint}{more}")
