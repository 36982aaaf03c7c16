"""The staff JSON API for registration: the status codes a client program acts on."""

from __future__ import annotations

import json
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


SHANXIA = "330282123201"   # 山下村, 龙山镇 (the liaison point's other village)
ZILING = "330282114201"    # 子陵村, 横河镇 (慈溪, but another point's)


@pytest.fixture
async def liaison(client: AppClient) -> dict[str, str]:
    """The Authorization header of a liaison whose point covers 杨高村 and 山下村."""
    accounts = runtime_of(client).services.accounts
    operator = await accounts.actor_for(None, Channel.CLI)
    await accounts.create_liaison_point(operator, "杨高村联络点", [YANGGAO, SHANXIA])
    await accounts.register(operator, RegistrationForm("杨丽", valid_id(serial=3), "13900000003", YANGGAO,
                                                       "liaison", liaison_point="杨高村联络点"))
    return {"Authorization": f"Bearer {await accounts.issue_token(operator, '13900000003')}"}


async def test_a_liaison_registers_in_the_points_villages(client: AppClient, liaison: dict[str, str]) -> None:
    first = await client.post("/api/users", json=farmer(), headers=liaison)
    second = await client.post("/api/users", json=farmer(village=SHANXIA, phone="13900000015", name="沈桂芳",
                                                         id_number=valid_id(serial=15)), headers=liaison)
    assert (first.status, second.status) == (201, 201)
    assert (await second.json())["village_code"] == SHANXIA


@pytest.mark.parametrize(("body", "code"), [
    ({"village": ZILING}, "scope.village"),                       # the same county, not the point's
    ({"village": ZHANJIANG_VILLAGE}, "scope.village"),            # another city
    ({"role": "liaison", "liaison_point": "杨高村联络点"}, "scope.role"),
    ({"role": "officer", "county": "330282"}, "scope.role"),
], ids=["another-point", "another-city", "a-liaison", "an-officer"])
async def test_a_liaison_outside_their_scope_is_403(client: AppClient, liaison: dict[str, str],
                                                   body: dict[str, str], code: str) -> None:
    response = await client.post("/api/users", json=farmer(**body), headers=liaison)
    assert response.status == 403 and (await response.json())["error"]["code"] == code
    assert (await client.get("/api/users/13900000014", headers=liaison)).status == 404


async def test_a_liaison_edits_only_within_the_point(client: AppClient, liaison: dict[str, str],
                                                    officer: dict[str, str]) -> None:
    assert (await client.post("/api/users", json=farmer(village=ZILING), headers=officer)).status == 201
    moved = await client.patch("/api/users/13900000014", json={"status": "suspended"}, headers=liaison)
    assert moved.status == 403 and (await moved.json())["error"]["code"] == "scope.village"
    assert (await client.post("/api/users", json=farmer(phone="13900000016", id_number=valid_id(serial=16)),
                              headers=liaison)).status == 201
    away = await client.patch("/api/users/13900000016", json={"village": ZILING}, headers=liaison)
    assert away.status == 403                                     # cannot move someone out of the point
    ok = await client.patch("/api/users/13900000016", json={"village": SHANXIA}, headers=liaison)
    assert ok.status == 200 and (await ok.json())["village_code"] == SHANXIA


async def test_half_an_emoji_in_a_field_is_a_clear_refusal_not_a_crash(client: AppClient,
                                                                       officer: dict[str, str]) -> None:
    # valid JSON, no text: before, looking the point up raised and the client got a 500
    body = json.dumps(farmer(role="liaison", liaison_point="杨高村联络点\ud83d")).encode()   # sent as \ud83d
    response = await client.post("/api/users", data=body, headers=officer | {"Content-Type": "application/json"})
    assert response.status == 400 and (await response.json())["error"]["message"] == "联络员需指定联络点"
