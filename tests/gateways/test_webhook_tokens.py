"""Unsigned providers' webhooks carry our token in ?token=, and only there."""

from __future__ import annotations

import httpx
import pytest

from gateways import GatewaySettings, WebhookError, WebhookRequest, jsonhooks, load_gateway

RECEIPT = jsonhooks.receipt_body("mem-1", "delivered")


def _request(path: str, query: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", path, query, {"Content-Type": "application/json"}, RECEIPT)


@pytest.mark.parametrize("token", ["receipt", "inbound"])
async def test_a_token_equal_to_the_path_s_last_segment_is_not_a_pass(token: str) -> None:
    async with httpx.AsyncClient() as client:
        gateway = load_gateway(GatewaySettings("mem", "memory", {"webhook_token": token}), client)
    for kind in ("receipt", "inbound"):
        with pytest.raises(WebhookError) as refused:
            gateway.parse_receipt(_request(f"/hooks/mem/{kind}", {}))
        assert refused.value.status == 403
    with pytest.raises(WebhookError):
        gateway.parse_receipt(_request(f"/hooks/mem/receipt/{token}", {}))   # not in the path either
    assert gateway.parse_receipt(_request("/hooks/mem/receipt", {"token": token}))[0].status == "delivered"


async def test_a_wrong_or_empty_token_is_403() -> None:
    async with httpx.AsyncClient() as client:
        gateway = load_gateway(GatewaySettings("mem", "memory", {"webhook_token": "s3cret"}), client)
    for query in ({"token": ""}, {"token": "s3cre"}, {"token": "s3cret "}, {"tok": "s3cret"}):
        with pytest.raises(WebhookError) as refused:
            gateway.parse_receipt(_request("/hooks/mem/receipt", query))
        assert refused.value.status == 403
