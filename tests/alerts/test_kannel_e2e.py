"""End to end: an alert to one town through the kannel gateway, a real bearerbox and fakesmsc."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from farmer_mailbox.config import build_config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.outbox import Outbox
from gateways import GatewaySettings, load_gateway
from gateways.common import billed_segments
from gateways.kannel import get_url_template
from tests.alerts.conftest import DASHAN, LONGSHAN, SHANXIA, YANGGAO, ZHOUXIANG_VILLAGE, ZILING, Rig, pest_draft
from tests.support.kannel import CallbackServer, running_kannel

pytestmark = pytest.mark.kannel
TOKEN = "alerts-e2e-token"


async def test_an_alert_to_one_town_reaches_exactly_its_people(rig_with: Callable[..., Any]) -> None:
    rig: Rig = await rig_with()
    in_town = [await rig.user(v, ["水稻"]) for v in (YANGGAO, SHANXIA, YANGGAO)]
    in_town.append(await rig.user(SHANXIA, ["葡萄"]))           # no crop filter: every farmer of the town
    outside = [await rig.user(v, ["水稻"]) for v in (ZILING, DASHAN, ZHOUXIANG_VILLAGE)]
    async with (httpx.AsyncClient() as client, CallbackServer() as callbacks,
                running_kannel(get_url_template(callbacks.url("/kannel/mo"), TOKEN)) as kannel):
        options = {"sendsms_url": kannel.sendsms_url, "username": kannel.username,
                   "password": kannel.password, "dlr_url": callbacks.url("/kannel/dlr"),
                   "webhook_token": TOKEN, "max_messages": kannel.max_messages}
        gateway = load_gateway(GatewaySettings("kannel", "kannel", options), client)
        config = build_config({
            "service": {"database": rig.services.store.path},
            "gateways": {"kannel": {"type": "kannel", **options}},
            "routes": {"replies": ["kannel"], "matches": ["kannel"], "alerts": ["kannel"]},
        }, env={})
        outbox = Outbox(rig.services.store, GatewayRouter.from_config(config, {"kannel": gateway}), config,
                        rig.clock)
        alert, preview = await rig.alerts.create(rig.officer, pest_draft([LONGSHAN], crops=()))
        assert preview.recipients == len(in_town) and preview.segments == 2
        assert await rig.fanout.run_due() == len(in_town)
        await outbox.drain()
        mts = await kannel.wait_mt(len(in_town), timeout=10)
        with pytest.raises(TimeoutError):
            await kannel.wait_mt(1, timeout=1.5)            # and nobody else
    assert sorted(mt.receiver for mt in mts) == sorted(u.phone for u in in_town)
    assert {u.phone for u in outside}.isdisjoint(mt.receiver for mt in mts)
    parts = billed_segments(gateway.capabilities().signature, preview.text)   # Kannel bills no signature
    assert {mt.text for mt in mts} == {preview.text} and all(mt.parts == parts for mt in mts)
    await rig.fanout.finish()
    done = await rig.alerts.get(rig.officer, alert.id)
    assert done.status.value == "sent" and done.recipients == len(in_town)
