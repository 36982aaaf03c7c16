"""config.example.toml documents every option of every gateway type, and each example block builds.

The gateway examples are commented-out blocks: a block starts at a line `# [gateways.NAME]`, runs
to the next blank line, and is uncommented by removing one "# " from each line (so "# # text" is a
comment of the uncommented block). Each declared option appears in its type's block, on a line
with a comment right above it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from farmer_mailbox.config import build_config
from farmer_mailbox.gateway_setup import build_gateways
from gateways import BUILTIN_GATEWAYS, GatewaySettings, find_factory, load_gateway
from gateways.options import declared_options
from tests.gateways.contract_cases import CASES_BY_TYPE
from tests.gateways.wechat_case import WECHAT_AES_KEY

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example_blocks() -> dict[str, list[str]]:
    """Each gateway block of the example, uncommented: name -> its lines."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    commented = False
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = re.fullmatch(r"(# )?\[gateways\.([A-Za-z0-9_-]+)\]", line)
        if header:
            current, commented = blocks.setdefault(header.group(2), []), bool(header.group(1))
        elif not line.strip():
            current = None
        if current is not None:
            current.append((line[2:] if line.startswith("# ") else line.removeprefix("#")) if commented else line)
    return blocks


def example_gateways() -> dict[str, dict[str, Any]]:
    """The gateway tables of all example blocks, parsed as TOML."""
    text = "\n".join(line for lines in example_blocks().values() for line in lines)
    gateways: dict[str, dict[str, Any]] = tomllib.loads(text)["gateways"]
    return gateways


def env_for(tables: dict[str, dict[str, Any]]) -> dict[str, str]:
    """A value for every variable the examples name (URL-safe; a valid AES key where one is asked)."""
    names = {value for table in tables.values() for key, value in table.items() if key.endswith("_env")}
    return {name: WECHAT_AES_KEY if "AES" in name else f"test-{name.lower().replace('_', '-')}" for name in names}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


def test_every_builtin_type_has_an_example_block() -> None:
    types = {table["type"] for table in example_gateways().values()}
    assert types == set(BUILTIN_GATEWAYS)


def test_every_example_block_builds(client: httpx.AsyncClient) -> None:
    tables = example_gateways()
    config = build_config({"gateways": tables}, env={})
    built = build_gateways(config, client, env_for(tables))
    assert set(built) == set(tables)
    assert built["kannel"].capabilities().signature == "【农民信箱】"
    assert built["tencent"].capabilities().template_params["match_notice"] == ("what", "place", "n")


@pytest.mark.parametrize("gateway_type", sorted(BUILTIN_GATEWAYS))
def test_every_declared_option_is_documented_in_the_example(gateway_type: str) -> None:
    declared = declared_options(find_factory(gateway_type))
    assert declared, f"{gateway_type} declares no OPTIONS"
    blocks = [lines for name, lines in example_blocks().items()
              if tomllib.loads("\n".join(lines))["gateways"][name].get("type") == gateway_type]
    lines = [line for block in blocks for line in block]
    for option in declared.values():
        if option.kind == "object":          # a Python object for tests, never from a file
            continue
        names = (option.name, f"{option.name}_env")
        pattern = re.compile(rf"^(?:{'|'.join(names)}) =|^\[gateways\.[^.\]]+\.{option.name}[.\]]")
        where = [i for i, line in enumerate(lines) if pattern.match(line)]
        assert where, f"{gateway_type}: option {option.name!r} is not in config.example.toml"
        assert lines[where[0] - 1].startswith("#"), f"{gateway_type}: {option.name!r} has no comment above it"


@pytest.mark.parametrize("gateway_type", sorted(BUILTIN_GATEWAYS))
def test_an_unknown_option_is_refused_naming_it(gateway_type: str, client: httpx.AsyncClient) -> None:
    options = CASES_BY_TYPE[gateway_type].options("http://127.0.0.1:9") | {"no_such_option": 1}
    with pytest.raises(ValueError, match=r"'no_such_option' is not an option of type " + gateway_type):
        load_gateway(GatewaySettings("g", gateway_type, options), client)


def test_the_old_aliyun_example_keys_are_refused(client: httpx.AsyncClient) -> None:
    good = CASES_BY_TYPE["aliyun"].options("http://127.0.0.1:9")
    for key in ("signature", "access_key_secret"):
        with pytest.raises(ValueError, match=rf"option '{key}' is not an option of type aliyun \(known: "):
            load_gateway(GatewaySettings("aliyun", "aliyun", good | {key: "x"}), client)
