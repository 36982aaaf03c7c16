"""send(): customer-service API, template fallback, access_token caching, error mapping.

Runs against the fake WeChat API on 127.0.0.1; transport failures use httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateways import GatewaySettings, OutboundSms, SendError, SendResult
from gateways.wechat import WechatGateway
from tests.wechat.fake_api import FakeClock, FakeWechatApi

APPID = "wx0123456789abcdef"
SECRET = "app-secret-never-logged"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
TEMPLATES = {
    "match_found": {
        "template_id": "TPL_MATCH",
        "fields": {"first": "_text", "keyword1": "crop", "keyword2": "qty"},
        "url": "https://example.invalid/m",
    },
    "weather_alert": {"template_id": "TPL_WEATHER", "fields": {"first": "_text"}, "prefer": "template"},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[FakeWechatApi]:
    async with FakeWechatApi(appid=APPID, secret=SECRET, clock=clock) as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


Make = Callable[..., WechatGateway]


@pytest.fixture
def make(api: FakeWechatApi, client: httpx.AsyncClient, clock: FakeClock) -> Make:
    def build(**options: Any) -> WechatGateway:
        opts = {"token": "t", "appid": APPID, "secret": SECRET, "api_base": api.base_url, **options}
        return WechatGateway(GatewaySettings("wechat", "wechat", opts), client, clock=clock)

    return build


def sms(text: str = "您好,有人要买玉米", key: str = "reply", n: int = 1, **params: str) -> OutboundSms:
    return OutboundSms(n, OPENID, key, params, text, f"idem-{n}")


# -- customer-service API --------------------------------------------------------------------


async def test_text_goes_through_the_customer_service_api(api: FakeWechatApi, make: Make) -> None:
    result = await make().send(sms())
    assert result == SendResult(("custom:idem-1",))
    assert api.texts == [(OPENID, "您好,有人要买玉米")]
    [call] = [r for r in api.requests if r.endpoint == "custom"]
    assert call.json == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好,有人要买玉米"}}


async def test_body_is_raw_utf8_json_and_the_secret_stays_out_of_urls(client: httpx.AsyncClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/cgi-bin/stable_token":
            return httpx.Response(200, json={"access_token": "T", "expires_in": 7200})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mock:
        opts = {"token": "t", "appid": APPID, "secret": SECRET, "api_base": "http://wechat.test"}
        await WechatGateway(GatewaySettings("w", "wechat", opts), mock).send(sms("玉米"))
    assert all(SECRET not in str(r.url) for r in seen)
    assert "玉米".encode() in seen[-1].content
    assert json.loads(seen[0].content)["force_refresh"] is False


async def test_token_is_cached_between_sends(api: FakeWechatApi, make: Make) -> None:
    gw = make()
    for n in range(3):
        await gw.send(sms(n=n))
    assert api.token_requests == 1
    assert len(api.texts) == 3


async def test_concurrent_sends_share_one_token_fetch(api: FakeWechatApi, make: Make) -> None:
    gw = make()
    await asyncio.gather(*(gw.send(sms(n=n)) for n in range(5)))
    assert api.token_requests == 1


@pytest.mark.parametrize("endpoint", ["stable", "token"])
async def test_token_is_refreshed_ahead_of_expiry(
    api: FakeWechatApi, make: Make, clock: FakeClock, endpoint: str
) -> None:
    gw = make(token_endpoint=endpoint)
    await gw.send(sms())
    clock.advance(7200 - 301)
    await gw.send(sms())
    assert api.token_requests == 1
    clock.advance(2)  # now inside the 300 s margin: refresh before WeChat would refuse it
    await gw.send(sms())
    assert api.token_requests == 2
    assert [r.endpoint for r in api.requests].count("custom") == 3
    assert not any(r.endpoint == ("token" if endpoint == "stable" else "stable_token") for r in api.requests)


async def test_an_expired_token_is_never_used(api: FakeWechatApi, make: Make, clock: FakeClock) -> None:
    gw = make(token_endpoint="token")
    await gw.send(sms())
    clock.advance(7300)
    await gw.send(sms())
    assert api.token_requests == 2
    assert len(api.texts) == 2  # no 42001 round trip


async def test_invalid_token_is_refreshed_once(api: FakeWechatApi, make: Make) -> None:
    gw = make()
    await gw.send(sms())
    api.revoke_tokens()
    await gw.send(sms())
    assert api.token_requests == 2
    assert [r.endpoint for r in api.requests] == [
        "stable_token",
        "custom",
        "custom",
        "stable_token",
        "custom",
    ]


async def test_stable_token_is_force_refreshed_when_normal_mode_returns_the_refused_one(
    api: FakeWechatApi, make: Make
) -> None:
    gw = make()
    await gw.send(sms())
    api.fail_next("custom", 40001)  # WeChat refuses a token it still hands out
    await gw.send(sms())
    forced = [r.json["force_refresh"] for r in api.requests if r.endpoint == "stable_token"]
    assert forced == [False, False, True]
    assert len(api.texts) == 2


async def test_invalid_token_twice_is_a_retryable_error(api: FakeWechatApi, make: Make) -> None:
    gw = make(token_endpoint="token")
    api.fail_next("custom", 40001, 40014)
    with pytest.raises(SendError) as err:
        await gw.send(sms())
    assert (err.value.code, err.value.retryable) == ("wechat.40014", True)
    assert api.token_requests == 2  # refreshed once, not in a loop


async def test_concurrent_refusals_refresh_the_token_once(api: FakeWechatApi, make: Make) -> None:
    gw = make(token_endpoint="token")
    await gw.send(sms())
    api.revoke_tokens()
    await asyncio.gather(*(gw.send(sms(n=n)) for n in range(4)))
    assert api.token_requests == 2
    assert len(api.texts) == 5


# -- template fallback -----------------------------------------------------------------------


async def test_out_of_window_falls_back_to_the_template(api: FakeWechatApi, make: Make) -> None:
    api.outside_window.add(OPENID)
    result = await make(templates=TEMPLATES).send(sms("玉米 5吨", key="match_found", crop="玉米", qty="5吨"))
    assert api.texts == []
    [sent] = api.templates_sent
    assert sent == {
        "touser": OPENID,
        "template_id": "TPL_MATCH",
        "url": "https://example.invalid/m",
        "data": {"first": {"value": "玉米 5吨"}, "keyword1": {"value": "玉米"}, "keyword2": {"value": "5吨"}},
    }
    assert result.external_ids[0].isdigit()  # WeChat's msgid: the key of TEMPLATESENDJOBFINISH


@pytest.mark.parametrize("code", [45015, 45047])
async def test_out_of_window_without_a_template_is_final(api: FakeWechatApi, make: Make, code: int) -> None:
    api.fail_next("custom", code)
    with pytest.raises(SendError) as err:
        await make(templates=TEMPLATES).send(sms(key="no_template_for_this"))
    assert (err.value.code, err.value.retryable) == (f"wechat.{code}", False)


async def test_a_template_can_be_preferred(api: FakeWechatApi, make: Make) -> None:
    await make(templates=TEMPLATES).send(sms("暴雨预警", key="weather_alert"))
    assert [r.endpoint for r in api.requests] == ["stable_token", "template"]
    assert api.templates_sent[0]["data"] == {"first": {"value": "暴雨预警"}}


async def test_global_prefer_template(api: FakeWechatApi, make: Make) -> None:
    gw = make(templates=TEMPLATES, prefer="template")
    await gw.send(sms(key="match_found", crop="玉米", qty="1吨"))
    await gw.send(sms(key="reply"))  # no template for this key: customer-service API
    assert [r.endpoint for r in api.requests] == ["stable_token", "template", "custom"]


async def test_missing_template_param_is_final(api: FakeWechatApi, make: Make) -> None:
    api.outside_window.add(OPENID)
    with pytest.raises(SendError) as err:
        await make(templates=TEMPLATES).send(sms(key="match_found", crop="玉米"))
    assert (err.value.code, err.value.retryable) == ("wechat.template_param", False)


# -- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "retryable"),
    [
        (-1, True),
        (45009, True),
        (45011, True),
        (43004, False),
        (40003, False),
        (48001, False),
        (99999, False),
    ],
)
async def test_errcodes_carry_their_retry_policy(
    api: FakeWechatApi, make: Make, errcode: int, retryable: bool
) -> None:
    api.fail_next("custom", errcode)
    with pytest.raises(SendError) as err:
        await make().send(sms())
    assert (err.value.code, err.value.retryable) == (f"wechat.{errcode}", retryable)


async def test_unsubscribed_user_fails_even_with_a_template(api: FakeWechatApi, make: Make) -> None:
    api.unsubscribed.add(OPENID)
    with pytest.raises(SendError) as err:
        await make(templates=TEMPLATES).send(sms(key="match_found", crop="a", qty="b"))
    assert (err.value.code, err.value.retryable) == ("wechat.43004", False)
    assert api.templates_sent == []


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (500, True), (429, True), (404, False)])
async def test_http_failures(api: FakeWechatApi, make: Make, status: int, retryable: bool) -> None:
    api.fail_next("custom", http_status=status)
    with pytest.raises(SendError) as err:
        await make().send(sms())
    assert (err.value.code, err.value.retryable) == (f"wechat.http_{status}", retryable)


@pytest.mark.parametrize(
    ("exc", "code"),
    [(httpx.ReadTimeout("slow"), "wechat.timeout"), (httpx.ConnectError("refused"), "wechat.network")],
)
async def test_timeouts_and_network_errors_are_retryable(exc: Exception, code: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mock:
        opts = {"token": "t", "appid": APPID, "secret": SECRET, "api_base": "http://wechat.test"}
        with pytest.raises(SendError) as err:
            await WechatGateway(GatewaySettings("w", "wechat", opts), mock).send(sms())
    assert (err.value.code, err.value.retryable) == (code, True)
    assert SECRET not in str(err.value)


async def test_non_json_answer_is_retryable() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))
    ) as m:
        opts = {"token": "t", "appid": APPID, "secret": SECRET, "api_base": "http://wechat.test"}
        with pytest.raises(SendError) as err:
            await WechatGateway(GatewaySettings("w", "wechat", opts), m).send(sms())
    assert (err.value.code, err.value.retryable) == ("wechat.bad_response", True)


@pytest.mark.parametrize(
    ("options", "code", "retryable"),
    [
        ({"secret": "wrong"}, "wechat.token.40125", False),
        ({"appid": "wx_wrong"}, "wechat.token.40013", False),
    ],
)
async def test_token_endpoint_refusals(
    make: Make, options: dict[str, str], code: str, retryable: bool
) -> None:
    with pytest.raises(SendError) as err:
        await make(**options).send(sms())
    assert (err.value.code, err.value.retryable) == (code, retryable)


async def test_token_endpoint_busy_is_retryable(api: FakeWechatApi, make: Make) -> None:
    api.fail_next("stable_token", -1)
    with pytest.raises(SendError) as err:
        await make().send(sms())
    assert (err.value.code, err.value.retryable) == ("wechat.token.-1", True)


@pytest.mark.parametrize(
    ("to", "text", "code"), [("13800138000 ", "hi", "wechat.bad_openid"), (OPENID, " ", "wechat.empty")]
)
async def test_refused_before_any_call(api: FakeWechatApi, make: Make, to: str, text: str, code: str) -> None:
    with pytest.raises(SendError) as err:
        await make().send(OutboundSms(1, to, "reply", {}, text, "k"))
    assert (err.value.code, err.value.retryable) == (code, False)
    assert api.requests == []


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": None}, "'token' is required"),
        ({"encoding_aes_key": "short"}, "encoding_aes_key"),
        ({"prefer": "sms"}, "'prefer' must be one of"),
        ({"token_endpoint": "magic"}, "'token_endpoint'"),
        ({"templates": {"k": {"fields": {"a": "b"}}}}, "templates.k"),
        ({"templates": {"k": {"template_id": "T"}}}, "templates.k.fields"),
        (
            {"templates": {"k": {"template_id": "T", "fields": {"a": "b"}, "prefer": "x"}}},
            "templates.k.prefer",
        ),
        ({"templates": ["k"]}, "'templates' must be a table"),
        ({"timeout_seconds": "5"}, "'timeout_seconds' must be a non-negative number"),
        ({"rate_per_second": -1}, "'rate_per_second'"),
        ({"allow_plain": "false"}, "'allow_plain' must be true or false"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, Any], message: str) -> None:
    opts = {"token": "t", "appid": APPID, "secret": SECRET, **options}
    opts = {k: v for k, v in opts.items() if v is not None}
    with pytest.raises(ValueError, match=message):
        WechatGateway(GatewaySettings("w", "wechat", opts), httpx.AsyncClient())
