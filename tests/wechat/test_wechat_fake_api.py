"""The fake WeChat API checks what WeChat checks, so end-to-end tests can rely on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.wechat.fake_api import FakeClock, FakeWechatApi

APPID, SECRET = "wx_fake", "fake-secret"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[FakeWechatApi]:
    async with FakeWechatApi(appid=APPID, secret=SECRET, clock=clock) as fake:
        yield fake


async def token(http: httpx.AsyncClient, api: FakeWechatApi) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    resp = await http.get(f"{api.base_url}/cgi-bin/token", params=params)
    value: str = resp.json()["access_token"]
    return value


async def custom(http: httpx.AsyncClient, api: FakeWechatApi, tok: str, payload: Any) -> dict[str, Any]:
    url = f"{api.base_url}/cgi-bin/message/custom/send"
    result: dict[str, Any] = (await http.post(url, params={"access_token": tok}, json=payload)).json()
    return result


TEXT = {"touser": "o_user", "msgtype": "text", "text": {"content": "你好"}}


async def test_tokens_are_checked_on_every_call(api: FakeWechatApi, clock: FakeClock) -> None:
    async with httpx.AsyncClient() as http:
        tok = await token(http, api)
        assert (await custom(http, api, tok, TEXT))["errcode"] == 0
        assert (await custom(http, api, "forged", TEXT))["errcode"] == 40001
        clock.advance(7200)
        assert (await custom(http, api, tok, TEXT))["errcode"] == 42001
    assert api.texts == [("o_user", "你好")]


async def test_an_older_classic_token_survives_five_minutes(api: FakeWechatApi, clock: FakeClock) -> None:
    async with httpx.AsyncClient() as http:
        old = await token(http, api)
        new = await token(http, api)
        assert old != new
        assert (await custom(http, api, old, TEXT))["errcode"] == 0
        clock.advance(301)
        assert (await custom(http, api, old, TEXT))["errcode"] == 42001
        assert (await custom(http, api, new, TEXT))["errcode"] == 0


@pytest.mark.parametrize(
    ("payload", "errcode"),
    [
        ({"touser": "o_user", "msgtype": "image", "text": {"content": "x"}}, 47001),
        ({"touser": "o_user", "msgtype": "text", "text": {"content": ""}}, 47001),
        ({"touser": "o_user", "msgtype": "text", "content": "x"}, 47001),
        ({"touser": "", "msgtype": "text", "text": {"content": "x"}}, 40003),
        ([1, 2], 40003),
    ],
)
async def test_payload_shape_is_checked(api: FakeWechatApi, payload: Any, errcode: int) -> None:
    async with httpx.AsyncClient() as http:
        assert (await custom(http, api, await token(http, api), payload))["errcode"] == errcode
    assert api.texts == []


async def test_template_ids_and_msgids(api: FakeWechatApi) -> None:
    url = f"{api.base_url}/cgi-bin/message/template/send"
    async with httpx.AsyncClient() as http:
        params = {"access_token": await token(http, api)}
        bad = {"touser": "o_user", "template_id": "T", "data": {"k": "not an object"}}
        assert (await http.post(url, params=params, json=bad)).json()["errcode"] == 47001
        good = {"touser": "o_user", "template_id": "T", "data": {"k": {"value": "v"}}}
        ids = {(await http.post(url, params=params, json=good)).json()["msgid"] for _ in range(3)}
    assert len(ids) == 3
    assert len(api.templates_sent) == 3


async def test_wrong_credentials_and_no_secret_in_the_record(api: FakeWechatApi) -> None:
    async with httpx.AsyncClient() as http:
        body = {"grant_type": "client_credential", "appid": APPID, "secret": "nope"}
        resp = await http.post(f"{api.base_url}/cgi-bin/stable_token", json=body)
    assert resp.json()["errcode"] == 40125
    assert "nope" not in repr(api.requests)


async def test_violations_are_the_calls_the_caller_got_wrong(api: FakeWechatApi) -> None:
    api.unsubscribed.add("o_gone")
    async with httpx.AsyncClient() as http:
        tok = await token(http, api)
        assert (await custom(http, api, tok, {**TEXT, "touser": "o_gone"}))["errcode"] == 43004
        assert api.violations == []  # a well-formed call the account may not make: not a violation
        assert (await custom(http, api, "forged", TEXT))["errcode"] == 40001
        assert (await custom(http, api, tok, {**TEXT, "msgtype": "image"}))["errcode"] == 47001
    assert api.violations == [
        "40001 invalid credential, access_token is invalid or not latest",
        "47001 data format error",
    ]


async def test_script_answers_the_next_message_call_after_its_token_checks_out(api: FakeWechatApi) -> None:
    api.script.append(web.json_response({"errcode": -1, "errmsg": "system error"}))
    async with httpx.AsyncClient() as http:
        tok = await token(http, api)  # token fetches never take the scripted answer
        assert (await custom(http, api, "forged", TEXT))["errcode"] == 40001  # nor a refused call
        assert (await custom(http, api, tok, TEXT))["errcode"] == -1
        assert (await custom(http, api, tok, TEXT))["errcode"] == 0
    assert api.texts == [("o_user", "你好")]


async def test_delay_stalls_every_answer(api: FakeWechatApi) -> None:
    api.delay = 0.5
    async with httpx.AsyncClient() as http:
        params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{api.base_url}/cgi-bin/token", params=params, timeout=0.05)
