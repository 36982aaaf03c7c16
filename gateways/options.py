"""What each gateway type accepts as options: one declaration per option (name, kind, default, doc).

A gateway class lists its options in `OPTIONS` (built with `declare`); `gateways.common.Options`
takes defaults from there, and construction refuses any option the type does not declare, naming
it (a misspelt or misplaced key is a start-up error, not a silently ignored line). config.example.toml
documents every declared option of every type (a test keeps them in step).

Kinds: string, secret (a string that comes from the environment: `<name>_env = "VAR"` in the file),
integer, number, boolean, table, list, object (tests only: a Python object, never from a file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("string", "secret", "integer", "number", "boolean", "table", "list", "object")


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a gateway type: `default` None means required (or, with required=False, none)."""

    name: str
    kind: str
    default: Any = None
    doc: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


def declare(*options: Option) -> dict[str, Option]:
    """An `OPTIONS` table by name, in declaration order; a name declared twice is a bug."""
    table: dict[str, Option] = {}
    for option in options:
        if option.name in table:
            raise ValueError(f"option {option.name!r} declared twice")
        table[option.name] = option
    return table


def unknown_options(given: Mapping[str, Any], declared: Mapping[str, Option]) -> list[str]:
    """The given option names that are not declared, sorted."""
    return sorted(set(given) - set(declared))


def declared_options(factory: object) -> Mapping[str, Option] | None:
    """The `OPTIONS` of a gateway class, or None for a plug-in that declares none."""
    table = getattr(factory, "OPTIONS", None)
    return table if isinstance(table, Mapping) else None


# Options shared by several types, declared once.
TIMEOUT = Option("timeout", "number", 10.0, "seconds to wait for the provider's answer (connect: at most 5)")
RATE = Option("rate_per_second", "number", 0.0, "most messages per second through this gateway; 0 = no limit")
SIGNATURE = Option("signature", "string", "", "billed signature such as 【农民信箱】 (counted in every segment)")
WEBHOOK_TOKEN = Option("webhook_token", "secret", None, "secret our webhook URLs carry as ?token= "
                       "(the provider signs nothing)", required=True)
