"""Construction: malformed options raise ValueError naming the key; capabilities follow options."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateways import GatewaySettings, load_gateway
from tests.gateways.contract_cases import CASES_BY_TYPE

GATEWAYS_DIR = Path(__file__).resolve().parents[2] / "gateways"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


def options_for(gateway_type: str, **changes: Any) -> dict[str, Any]:
    """The contract case's good options with some keys changed (None removes a key)."""
    options = CASES_BY_TYPE[gateway_type].options("http://127.0.0.1:9")
    options.update(changes)
    return {key: value for key, value in options.items() if value is not None}


BAD_OPTIONS = [
    ("kannel", {"username": None}, "'username' is required"),
    ("kannel", {"webhook_token": "a%b"}, "'webhook_token' must use only"),
    ("kannel", {"max_messages": 0}, "'max_messages' must be an integer >= 1"),
    ("aliyun", {"templates": None}, "'templates' must be a non-empty table"),
    ("aliyun", {"templates": {"match_notice": ""}}, "'templates.match_notice' must be a non-empty string"),
    ("aliyun", {"webhook_token": None}, "'webhook_token' is required"),
    ("tencent", {"templates": {"match_notice": "1100001"}}, "'templates.match_notice' must be a table"),
    ("tencent", {"templates": {"match_notice": {"params": []}}}, "'templates.match_notice.id' must be"),
    (
        "tencent",
        {"templates": {"match_notice": {"id": "1", "params": "product"}}},
        "'templates.match_notice.params'",
    ),
    ("tencent", {"sdk_app_id": None}, "'sdk_app_id' is required"),
    ("twilio", {"from_number": None}, "'from_number' or 'messaging_service_sid' is required"),
    ("twilio", {"timeout": 0}, "'timeout' must be a number"),
    ("http", {"format": "xml"}, "'format' must be one of json, form"),
    ("http", {"fields": {"phone": "mobile"}}, "'fields.phone' is not one of"),
    ("http", {"status_map": {"DELIVRD": "done"}}, "'status_map.DELIVRD' must be one of"),
    ("http", {"inbound_fields": {"sender": "mobile"}}, "'inbound_fields.text' is required"),
    ("memory", {"templates": "match_notice"}, "'templates' must be a list of template keys"),
    ("memory", {"rate_per_second": -1}, "'rate_per_second' must be a number >= 0"),
]


@pytest.mark.parametrize(("gateway_type", "changes", "message"), BAD_OPTIONS)
def test_malformed_options_name_the_key(
    gateway_type: str, changes: dict[str, Any], message: str, client: httpx.AsyncClient
) -> None:
    settings = GatewaySettings("sms-main", gateway_type, options_for(gateway_type, **changes))
    with pytest.raises(ValueError, match="gateway 'sms-main'") as caught:
        load_gateway(settings, client)
    assert message in str(caught.value)


def test_unknown_type_lists_the_known_ones(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match=r"unknown gateway type 'smpp'.*aliyun"):
        load_gateway(GatewaySettings("x", "smpp"), client)


def test_template_only_gateways_list_the_keys_they_can_send(client: httpx.AsyncClient) -> None:
    aliyun = load_gateway(GatewaySettings("a", "aliyun", options_for("aliyun")), client)
    tencent = load_gateway(GatewaySettings("t", "tencent", options_for("tencent")), client)
    assert aliyun.capabilities().templates == frozenset({"match_notice", "verify_code"})
    assert tencent.capabilities().templates == frozenset({"match_notice"})
    needed = {"match_notice", "weather_alert"}
    assert needed - (aliyun.capabilities().templates or set()) == {"weather_alert"}  # the start-up check


def test_rate_and_signature_come_from_options(client: httpx.AsyncClient) -> None:
    kannel = load_gateway(
        GatewaySettings("k", "kannel", options_for("kannel", rate_per_second=5, max_messages=3)), client
    )
    caps = kannel.capabilities()
    assert (caps.rate_per_second, caps.max_segments, caps.templates) == (5.0, 3, None)
    memory = load_gateway(
        GatewaySettings("m", "memory", {"templates": ["a"], "signature": "【测试】"}), client
    )
    assert memory.capabilities().templates == frozenset({"a"})
    assert memory.capabilities().signature == "【测试】"


def _is_import_module_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or getattr(node.func, "attr", "") != "import_module":
        return False
    return bool(node.args) and isinstance(node.args[0], ast.Constant)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif _is_import_module_call(node):
            names.add(str(node.args[0].value))  # type: ignore[attr-defined]
    return names


def test_gateways_never_import_farmer_mailbox() -> None:
    modules = sorted(GATEWAYS_DIR.rglob("*.py"))
    assert len(modules) >= 10
    offenders = {
        path.name: name
        for path in modules
        for name in _imported_modules(path)
        if name == "farmer_mailbox" or name.startswith("farmer_mailbox.")
    }
    assert offenders == {}
