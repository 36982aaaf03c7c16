"""Test helpers: valid ID numbers, configs on temporary files, a key for the ID vault."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from farmer_mailbox.config import Config, build_config
from farmer_mailbox.validation import id_check_digit

TEST_KEY = base64.b64encode(b"k" * 32).decode()
TEST_ENV = {"FARMER_MAILBOX_ID_KEY": TEST_KEY}

YANGGAO = "330282123222"   # 杨高村, 龙山镇, 慈溪市
SHANXIA = "330282123201"   # 山下村, 龙山镇
ZILING = "330282114201"    # 子陵村, 横河镇
DASHAN = "330282114202"    # 大山村, 横河镇
ZHANJIANG_VILLAGE = "440802001002"  # a village in 湛江市 (another city)


def valid_id(region: str = "330282", birth: str = "19800101", serial: int = 123) -> str:
    """A resident ID number with a correct check digit."""
    first17 = f"{region}{birth}{serial:03d}"
    return first17 + id_check_digit(first17)


def make_config(database: Path, **sections: dict[str, Any]) -> Config:
    """A Config on `database` with memory gateways unless told otherwise."""
    raw: dict[str, Any] = {
        "service": {"database": str(database)},
        "gateways": {"mem": {"type": "memory"}},
        "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return build_config(raw, env={})


def utf8_text(value: str) -> bool:
    """True when the string can be written as UTF-8 (no lone surrogates): what SQLite can store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
