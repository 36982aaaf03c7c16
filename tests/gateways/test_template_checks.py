"""Start-up checks of provider templates: every kind that can go by SMS has one, and each provider
template reads only params its message kind has. Caught at start, not at 2 a.m."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from farmer_mailbox import wording
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import ConfigError, build_config
from farmer_mailbox.gateway_setup import check_templates, missing_templates, sms_kinds
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.wechat.preference import PINNED
from gateways import Gateway, GatewaySettings, load_gateway
from tests.helpers import TEST_ENV

ALIYUN = {"access_key_id": "id", "secret": "s", "sign_name": "农民信箱", "webhook_token": "t"}
TENCENT = {"secret_id": "id", "secret": "s", "sdk_app_id": "1400000000", "sign_name": "农民信箱", "webhook_token": "t"}
WECHAT = {"token": "t", "appid": "wx0000000000000000", "secret": "s"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


def build(client: httpx.AsyncClient, name: str, kind: str, options: dict[str, Any]) -> Gateway:
    return load_gateway(GatewaySettings(name, kind, options), client)


def aliyun_codes(kinds: list[str]) -> dict[str, str]:
    return {key: f"SMS_{n:09d}" for n, key in enumerate(kinds)}


def tencent_specs(kinds: list[str]) -> dict[str, dict[str, Any]]:
    return {key: {"id": str(1000 + n), "params": sorted(wording.template_fields(key))} for n, key in enumerate(kinds)}


def test_only_kinds_that_can_go_by_sms_are_required() -> None:
    kinds = sms_kinds()
    assert "wechat_welcome" not in kinds and "wechat_bound" not in kinds
    assert {"bind_code", "help", "match_notice", "weather_warning"} <= set(kinds) and set(kinds) >= PINNED
    assert len(kinds) + len([k for k in wording.TEMPLATES if k.startswith("wechat_")]) == len(wording.TEMPLATES)


def test_complete_template_gateways_pass(client: httpx.AsyncClient) -> None:
    gateways = {"ali": build(client, "ali", "aliyun", ALIYUN | {"templates": aliyun_codes(sms_kinds())}),
                "tx": build(client, "tx", "tencent", TENCENT | {"templates": tencent_specs(sms_kinds())}),
                "console": build(client, "console", "console", {})}
    check_templates(gateways)
    assert missing_templates(gateways, wording.TEMPLATES) == {
        "ali": sorted(k for k in wording.TEMPLATES if k.startswith("wechat_")),
        "tx": sorted(k for k in wording.TEMPLATES if k.startswith("wechat_"))}


def test_missing_kinds_are_named_with_their_gateway(client: httpx.AsyncClient) -> None:
    kinds = [k for k in sms_kinds() if k not in ("help", "match_notice")]
    gateways = {"sms-main": build(client, "sms-main", "aliyun", ALIYUN | {"templates": aliyun_codes(kinds)})}
    with pytest.raises(ConfigError) as refused:
        check_templates(gateways)
    assert "gateways.sms-main.templates lacks help, match_notice" in str(refused.value)


def test_tencent_param_names_are_checked_against_the_message_kind(client: httpx.AsyncClient) -> None:
    specs = tencent_specs(sms_kinds())
    specs["register_failed"] = {"id": "1", "params": ["no_such_param"]}
    specs["match_notice"] = {"id": "2", "params": ["what", "place", "nn"]}
    with pytest.raises(ConfigError) as refused:
        check_templates({"tx": build(client, "tx", "tencent", TENCENT | {"templates": specs})})
    message = str(refused.value)
    assert "gateways.tx.templates.register_failed: 'register_failed' has no param 'no_such_param' (it has: reason)" \
        in message
    assert "gateways.tx.templates.match_notice: 'match_notice' has no param 'nn'" in message


def test_a_provider_template_for_an_unknown_kind_is_refused(client: httpx.AsyncClient) -> None:
    specs = tencent_specs(sms_kinds()) | {"welcom": {"id": "9", "params": []}}
    with pytest.raises(ConfigError, match=r"gateways\.tx\.templates\.welcom: no message kind 'welcom'"):
        check_templates({"tx": build(client, "tx", "tencent", TENCENT | {"templates": specs})})


def test_wechat_template_fields_must_map_to_params_of_the_kind(client: httpx.AsyncClient) -> None:
    good = {"weather_warning": {"template_id": "T1", "fields": {"first": "_text", "keyword1": "sender"}}}
    check_templates({"wx": build(client, "wx", "wechat", WECHAT | {"templates": good})})
    bad = {"weather_warning": {"template_id": "T1", "fields": {"first": "_text", "keyword1": "issuer"}}}
    with pytest.raises(ConfigError, match=r"gateways\.wx\.templates\.weather_warning: .* no param 'issuer'"):
        check_templates({"wx": build(client, "wx", "wechat", WECHAT | {"templates": bad})})


async def test_the_service_refuses_to_start_naming_the_gateway_and_kinds(
        db_path: Path, clock: ManualClock) -> None:
    kinds = [k for k in sms_kinds() if k != "bind_code"]
    config = build_config({
        "service": {"database": str(db_path)},
        "gateways": {"sms-main": {"type": "aliyun", **ALIYUN, "templates": aliyun_codes(kinds)}},
        "routes": {"replies": ["sms-main"], "matches": ["sms-main"], "alerts": ["sms-main"]},
    }, env={})
    with pytest.raises(ConfigError, match=r"gateways\.sms-main\.templates lacks bind_code \("):
        await Runtime.start(config, clock=clock, env=TEST_ENV, workers=False)
