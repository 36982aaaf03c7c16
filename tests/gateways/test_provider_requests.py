"""What each gateway puts on the wire, checked at its fake provider, and how refusals map."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from gateways import SendError
from gateways.aliyun import AliyunGateway
from tests.gateways.contract_cases import PUBLIC, SMS, TOKEN, TWILIO_SID, running
from tests.gateways.fakes import FakeAggregator, json_response


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


# --- Kannel ---------------------------------------------------------------------------------------


async def test_kannel_sends_ucs2_with_a_dlr_url_naming_the_outbox(client: httpx.AsyncClient) -> None:
    async with running("kannel", client, sender="10690001", smsc="FAKE") as built:
        result = await built.gateway.send(SMS)
        assert built.fake is not None
        query = built.fake.requests[0].query
    assert result.external_ids == ("42",)
    assert (query["coding"], query["charset"], query["text"], query["to"]) == ("2", "UTF-8", SMS.text, SMS.to)
    assert (query["from"], query["smsc"], query["dlr-mask"]) == ("10690001", "FAKE", "31")
    assert query["dlr-url"] == f"{PUBLIC}/webhooks/kannel/receipt?token={TOKEN}&outbox=42&type=%d&reply=%A"


async def test_kannel_refuses_what_it_would_truncate(client: httpx.AsyncClient) -> None:
    async with running("kannel", client, max_messages=2) as built:
        assert (await built.gateway.send(dataclasses.replace(SMS, text="中" * 134))).segments == 2
        with pytest.raises(SendError) as caught:
            await built.gateway.send(dataclasses.replace(SMS, text="中" * 135))
        assert built.fake is not None and len(built.fake.requests) == 1  # never reached Kannel
    assert (caught.value.code, caught.value.retryable) == ("too_long", False)


async def test_kannel_puts_the_signature_on_the_wire_and_counts_parts_with_it(client: httpx.AsyncClient) -> None:
    async with running("kannel", client, signature="【农民信箱】", max_messages=2) as built:
        one = await built.gateway.send(dataclasses.replace(SMS, text="中" * 64))     # 6 + 64 = 70: one part
        two = await built.gateway.send(dataclasses.replace(SMS, text="中" * 65))
        signed = await built.gateway.send(dataclasses.replace(SMS, text="【农民信箱】您好"))  # never twice
        with pytest.raises(SendError):
            await built.gateway.send(dataclasses.replace(SMS, text="中" * 129))       # 135 with it: 3 parts
        assert built.fake is not None
        texts = [request.query["text"] for request in built.fake.requests]
    assert texts == ["【农民信箱】" + "中" * 64, "【农民信箱】" + "中" * 65, "【农民信箱】您好"]
    assert (one.segments, two.segments, signed.segments) == (1, 2, 1)


async def test_kannel_wrong_password_is_not_retryable(client: httpx.AsyncClient) -> None:
    async with running("kannel", client, password="wrong") as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == ("forbidden", False)
    assert "Authorization failed" in caught.value.message


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [(202, "3: Queued for later delivery", None), (500, "Sending failed.", True), (404, "Not found", False)],
)
async def test_kannel_reply_mapping(
    client: httpx.AsyncClient, status: int, body: str, retryable: bool | None
) -> None:
    async with running("kannel", client) as built:
        assert built.fake is not None
        built.fake.script.append(web.Response(status=status, text=body))
        if retryable is None:
            assert (await built.gateway.send(SMS)).external_ids == ("42",)
            return
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert caught.value.retryable is retryable


# --- Aliyun ---------------------------------------------------------------------------------------


async def test_aliyun_sends_the_template_with_string_params(client: httpx.AsyncClient) -> None:
    sms = dataclasses.replace(SMS, params={"product": "葡萄苗", "price": 12, "note": "a b&c=d+e%"})  # type: ignore[dict-item]
    async with running("aliyun", client) as built:
        result = await built.gateway.send(sms)
        assert built.fake is not None
        assert built.fake.violations == []
        request = built.fake.requests[0]
    query = request.query
    assert (query["PhoneNumbers"], query["SignName"], query["TemplateCode"], query["OutId"]) == (
        SMS.to,
        "农民信箱",
        "SMS_100001",
        "42",
    )
    assert json.loads(query["TemplateParam"]) == {"product": "葡萄苗", "price": "12", "note": "a b&c=d+e%"}
    assert request.headers["x-acs-action"] == "SendSms" and request.body == b""
    assert result.external_ids[0].endswith("^0")
    assert result.segments == 1  # 【农民信箱】 + 17 characters


async def test_aliyun_wrong_secret_is_refused_by_signature(client: httpx.AsyncClient) -> None:
    async with running("aliyun", client, secret="not-the-secret") as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
        assert built.fake is not None and built.fake.violations == ["SignatureDoesNotMatch"]
    assert (caught.value.code, caught.value.retryable) == ("SignatureDoesNotMatch", False)


async def test_aliyun_unknown_template_is_not_sent(client: httpx.AsyncClient) -> None:
    async with running("aliyun", client) as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(dataclasses.replace(SMS, template_key="weather_alert"))
        assert built.fake is not None and built.fake.requests == []
    assert (caught.value.code, caught.value.retryable) == ("template_missing", False)


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", True),
        ("isp.SYSTEM_ERROR", True),
        ("Throttling.User", True),
        ("isv.MOBILE_NUMBER_ILLEGAL", False),
        ("isv.TEMPLATE_MISSING_PARAMETERS", False),
        ("isv.AMOUNT_NOT_ENOUGH", False),
    ],
)
async def test_aliyun_error_codes(client: httpx.AsyncClient, code: str, retryable: bool) -> None:
    async with running("aliyun", client) as built:
        assert built.fake is not None
        built.fake.script.append(json_response({"Code": code, "Message": "m", "RequestId": "r"}))
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == (code, retryable)


async def test_aliyun_send_batch(client: httpx.AsyncClient) -> None:
    async with running("aliyun", client) as built:
        assert isinstance(built.gateway, AliyunGateway)
        biz_id = await built.gateway.send_batch(
            "match_notice", [("13800001111", {"product": "苹果"}), ("13800002222", {"product": "梨"})]
        )
        assert built.fake is not None and built.fake.violations == []
        query = built.fake.requests[0].query
    assert biz_id
    assert json.loads(query["PhoneNumberJson"]) == ["13800001111", "13800002222"]
    assert json.loads(query["SignNameJson"]) == ["农民信箱", "农民信箱"]
    assert json.loads(query["TemplateParamJson"]) == [{"product": "苹果"}, {"product": "梨"}]
    with pytest.raises(ValueError, match="1 to 100"):
        await built.gateway.send_batch("match_notice", [])


async def test_the_aliyun_fake_checks_send_batch_like_aliyun(client: httpx.AsyncClient) -> None:
    async with running("aliyun", client) as built:
        assert isinstance(built.gateway, AliyunGateway) and built.fake is not None
        signed = built.gateway._signed_request  # the gateway's own signing, over queries Aliyun refuses
        bad_queries = [
            {"PhoneNumberJson": '["13800001111"]', "TemplateCode": "SMS_100001"},
            {"PhoneNumberJson": '["13800001111"]', "SignNameJson": '["农民信箱"]'},
            {"PhoneNumberJson": '["13800001111","13800002222"]', "SignNameJson": '["农民信箱"]',
             "TemplateCode": "SMS_100001"},
        ]
        for query in bad_queries:
            response = await client.send(signed("SendBatchSms", query))
            assert response.status_code == 400
    assert built.fake.violations == ["MissingParameter SignNameJson", "MissingParameter TemplateCode",
                                     "isv.PARAM_LENGTH_LIMIT numbers, signatures and params differ in count"]


# --- Tencent --------------------------------------------------------------------------------------


async def test_tencent_sends_ordered_string_params_in_e164(client: httpx.AsyncClient) -> None:
    async with running("tencent", client) as built:
        result = await built.gateway.send(
            dataclasses.replace(SMS, params={"price": "12", "product": "葡萄苗"})
        )
        assert built.fake is not None and built.fake.violations == []
        body = built.fake.requests[0].json()
    assert body["PhoneNumberSet"] == ["+8613800001111"]
    assert body["TemplateParamSet"] == ["葡萄苗", "12"]  # the configured order, not the dict's
    assert (body["TemplateId"], body["SmsSdkAppId"], body["SignName"], body["SessionContext"]) == (
        "1100001",
        "1400000000",
        "农民信箱",
        "42",
    )
    assert result.external_ids[0].startswith("2433:") and result.segments == 1


async def test_tencent_missing_param_is_not_sent(client: httpx.AsyncClient) -> None:
    async with running("tencent", client) as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(dataclasses.replace(SMS, params={"product": "葡萄苗"}))
        assert built.fake is not None and built.fake.requests == []
    assert (caught.value.code, caught.value.retryable) == ("missing_param", False)
    assert "price" in caught.value.message


async def test_tencent_wrong_key_is_refused_by_signature(client: httpx.AsyncClient) -> None:
    async with running("tencent", client, secret="not-the-key") as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == ("AuthFailure.SignatureFailure", False)


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("LimitExceeded.PhoneNumberDailyLimit", True),
        ("InternalError.Timeout", True),
        ("FailedOperation.TemplateIncorrectOrUnapproved", False),
        ("FailedOperation.PhoneNumberInBlacklist", False),
    ],
)
async def test_tencent_per_number_codes(client: httpx.AsyncClient, code: str, retryable: bool) -> None:
    status = {"SerialNo": "", "PhoneNumber": "+8613800001111", "Fee": 0, "Code": code, "Message": "m"}
    async with running("tencent", client) as built:
        assert built.fake is not None
        built.fake.script.append(json_response({"Response": {"SendStatusSet": [status], "RequestId": "r"}}))
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == (code, retryable)


# --- Twilio ---------------------------------------------------------------------------------------


async def test_twilio_posts_the_form_with_basic_auth(client: httpx.AsyncClient) -> None:
    callback = f"{PUBLIC}/webhooks/twilio/receipt"
    async with running("twilio", client, status_callback=callback) as built:
        result = await built.gateway.send(SMS)
        assert built.fake is not None and built.fake.violations == []
        request = built.fake.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.form == {
        "To": "+8613800001111",
        "From": "+15005550006",
        "Body": SMS.text,
        "StatusCallback": callback,
    }
    assert result.external_ids[0].startswith("SM") and result.segments == 1


async def test_twilio_messaging_service_instead_of_from(client: httpx.AsyncClient) -> None:
    async with running("twilio", client, from_number="", messaging_service_sid="MG" + "1" * 32) as built:
        await built.gateway.send(SMS)
        assert built.fake is not None
        assert built.fake.requests[0].form["MessagingServiceSid"] == "MG" + "1" * 32


async def test_twilio_wrong_token_is_not_retryable(client: httpx.AsyncClient) -> None:
    async with running("twilio", client, secret="wrong") as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == ("twilio_20003", False)


# --- generic HTTP ---------------------------------------------------------------------------------


async def test_http_maps_fields_extra_and_auth(client: httpx.AsyncClient) -> None:
    async with running("http", client) as built:
        result = await built.gateway.send(SMS)
        assert built.fake is not None and built.fake.violations == []
        request = built.fake.requests[0]
    assert request.json() == {"account": "farmer", "mobile": SMS.to, "content": SMS.text, "ref": "42"}
    assert result.external_ids == ("agg-1",)


async def test_http_form_get(client: httpx.AsyncClient) -> None:
    async with running("http", client, method="get") as built:
        assert isinstance(built.fake, FakeAggregator)
        result = await built.gateway.send(SMS)
        assert built.fake.violations == []
        request = built.fake.requests[0]
        with pytest.raises(SendError) as caught:                   # the fake checks GET sends too
            await built.gateway.send(dataclasses.replace(SMS, to="123"))
    assert request.method == "GET" and request.body == b""
    assert request.query == {"account": "farmer", "mobile": SMS.to, "content": SMS.text, "ref": "42"}
    assert result.external_ids == ("agg-1",) and caught.value.code == "1002"


async def test_http_form_post(client: httpx.AsyncClient) -> None:
    async with running("http", client, format="form") as built:
        assert isinstance(built.fake, FakeAggregator)
        await built.gateway.send(SMS)
        assert built.fake.violations == []
        request = built.fake.requests[0]
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.form == {"account": "farmer", "mobile": SMS.to, "content": SMS.text, "ref": "42"}


async def test_http_unmapped_error_code_is_not_retryable(client: httpx.AsyncClient) -> None:
    async with running("http", client) as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(dataclasses.replace(SMS, to="123"))
    assert (caught.value.code, caught.value.retryable) == ("1002", False)


async def test_http_auth_refusal_is_not_retryable(client: httpx.AsyncClient) -> None:
    async with running("http", client, secret="wrong") as built:
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == ("1001", False)  # a 401 is not retried


async def test_http_server_error_is_retryable(client: httpx.AsyncClient) -> None:
    async with running("http", client) as built:
        assert built.fake is not None
        built.fake.script.append(web.Response(status=502, text="bad gateway"))
        with pytest.raises(SendError) as caught:
            await built.gateway.send(SMS)
    assert (caught.value.code, caught.value.retryable) == ("http_502", True)
