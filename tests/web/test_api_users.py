"""The staff JSON API for registration: the status codes a client program acts on."""

from __future__ import annotations

from typing import Any

import pytest

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.models import Channel
from tests.helpers import ZHANJIANG_VILLAGE, valid_id
from tests.web.rig import AppClient, runtime_of

YANGGAO = "330282123222"   # 杨高村, 龙山镇, 慈溪市


@pytest.fixture
async def officer(client: AppClient) -> dict[str, str]:
    """The Authorization header of a 慈溪 county officer."""
    accounts = runtime_of(client).services.accounts
    operator = await accounts.actor_for(None, Channel.CLI)
    await accounts.register(operator, RegistrationForm("李明", valid_id(serial=1), "13900000002", YANGGAO,
                                                       "officer", county="330282"))
    return {"Authorization": f"Bearer {await accounts.issue_token(operator, '13900000002')}"}


def farmer(**changes: Any) -> dict[str, Any]:
    """A registration body for a farmer in 杨高村."""
    return {"name": "徐国庆", "id_number": valid_id(birth="19711001", serial=7), "phone": "13900000014",
            "village": YANGGAO, "interests": "稻谷,玉米"} | changes


async def test_an_officer_registers_a_farmer_201(client: AppClient, officer: dict[str, str]) -> None:
    body = farmer()
    response = await client.post("/api/users", json=body, headers=officer)
    user = await response.json()
    assert response.status == 201
    assert (user["name"], user["phone"], user["village_code"], user["role"]) == (
        "徐国庆", "13900000014", YANGGAO, "farmer")
    assert user["id_number"] != body["id_number"] and body["id_number"] not in await response.text()
    found = await client.get("/api/users/13900000014", headers=officer)
    assert found.status == 200 and (await found.json())["id"] == user["id"]


async def test_the_same_phone_twice_is_409(client: AppClient, officer: dict[str, str]) -> None:
    assert (await client.post("/api/users", json=farmer(), headers=officer)).status == 201
    again = await client.post("/api/users", json=farmer(name="徐国强", id_number=valid_id(serial=8)),
                              headers=officer)
    assert again.status == 409 and (await again.json())["error"]["code"].startswith("duplicate")


@pytest.mark.parametrize("change", [{"id_number": "330282197110010071"}, {"phone": "12345"}, {"name": ""}],
                         ids=["bad-id-check-digit", "bad-phone", "no-name"])
async def test_invalid_input_is_400_and_registers_nobody(client: AppClient, officer: dict[str, str],
                                                        change: dict[str, str]) -> None:
    response = await client.post("/api/users", json=farmer(**change), headers=officer)
    assert response.status == 400 and (await response.json())["error"]["message"]
    assert (await client.get("/api/users/13900000014", headers=officer)).status == 404


async def test_a_body_that_is_not_json_is_400(client: AppClient, officer: dict[str, str]) -> None:
    response = await client.post("/api/users", data=b"name=x", headers=officer)
    assert response.status == 400 and (await response.json())["error"]["code"] == "json"


async def test_a_village_outside_the_officers_county_is_403(client: AppClient, officer: dict[str, str]) -> None:
    response = await client.post("/api/users", json=farmer(village=ZHANJIANG_VILLAGE), headers=officer)
    assert response.status == 403 and (await response.json())["error"]["code"].startswith("scope")
    assert (await client.get("/api/users/13900000014", headers=officer)).status == 404


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer fm_not-a-real-token"],
                         ids=["none", "not-bearer", "unknown-token"])
async def test_without_a_valid_staff_token_it_is_401(client: AppClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.post("/api/users", json=farmer(), headers=headers)
    assert response.status == 401 and (await response.json())["error"]["code"].startswith("auth.")
    assert await runtime_of(client).services.store.count_users() == 0
