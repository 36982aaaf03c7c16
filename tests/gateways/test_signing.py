"""Signing, without I/O: published worked examples, then property checks against the SDKs."""

from __future__ import annotations

from types import SimpleNamespace

from alibabacloud_openapi_util.client import Client as AliyunOracle
from hypothesis import given
from hypothesis import strategies as st
from tencentcloud.common.abstract_client import AbstractClient as TencentOracle
from tencentcloud.common.sign import Sign
from twilio.request_validator import RequestValidator

from gateways.signing import (
    acs3_authorization,
    sha256_hex,
    tc3_authorization,
    tc3_signature,
    twilio_signature,
    twilio_signature_valid,
    twilio_url_variants,
)

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
PARAMS = st.dictionaries(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
    TEXT,
    max_size=6,
)


# --- Aliyun ACS3 ---------------------------------------------------------------------------------


def test_acs3_reproduces_the_published_example() -> None:
    """Aliyun's V3 signature doc: RunInstances on ECS, keys YourAccessKeyId / YourAccessKeySecret.

    help.aliyun.com/zh/model-studio/roa-style-request-body-signature-mechanism (same headers as the
    V3 request-structure page) gives Signature=e521358f…4804 for this request.
    """
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T09:01:01Z",
        "x-acs-signature-nonce": "d410180a5abf7fe235dd9b74aca91fc0",
        "x-acs-content-sha256": EMPTY_SHA256,
    }
    query = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}
    authorization = acs3_authorization(
        method="POST",
        path="/",
        query=query,
        headers=headers,
        body=b"",
        access_key_id="YourAccessKeyId",
        secret="YourAccessKeySecret",
    )
    assert authorization == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
    )


@given(query=PARAMS, body=st.binary(max_size=64), secret=st.text(min_size=1, max_size=20))
def test_acs3_agrees_with_alibabacloud_openapi_util(query: dict[str, str], body: bytes, secret: str) -> None:
    headers = {
        "host": "dysmsapi.aliyuncs.com",
        "x-acs-action": "SendSms",
        "x-acs-version": "2017-05-25",
        "x-acs-date": "2026-11-22T02:00:00Z",
        "x-acs-signature-nonce": "0123456789abcdef",
        "x-acs-content-sha256": sha256_hex(body),
    }
    ours = acs3_authorization(
        method="POST", path="/", query=query, headers=headers, body=body, access_key_id="AK", secret=secret
    )
    request = SimpleNamespace(method="POST", pathname="/", query=query, headers=headers)
    assert ours == AliyunOracle.get_authorization(request, "ACS3-HMAC-SHA256", sha256_hex(body), "AK", secret)


# --- Tencent TC3 ---------------------------------------------------------------------------------

TC3_EXAMPLE_BODY = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)


def test_tc3_reproduces_the_published_example() -> None:
    """Tencent's "Signature v3" doc (tencentcloud.com/document/product/382/40467): CVM
    DescribeInstances at 1551113065 with SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE; payload hash
    35e9c5b0…f064, signature 72e494ea…5168.
    """
    assert sha256_hex(TC3_EXAMPLE_BODY) == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    authorization = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        content_type="application/json; charset=utf-8",
        timestamp=1551113065,
        body=TC3_EXAMPLE_BODY,
    )
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_tc3_date_is_utc_not_beijing() -> None:
    # 1551113065 is 2019-02-26 00:44 in Beijing: the scope must still say 2019-02-25.
    assert "/2019-02-25/" in tc3_authorization(
        secret_id="id",
        secret_key="k",
        service="sms",
        host="h",
        content_type="c",
        timestamp=1551113065,
        body=b"",
    )


@given(
    body=st.binary(max_size=128),
    key=st.text(min_size=1, max_size=20),
    timestamp=st.integers(0, 4_000_000_000),
)
def test_tc3_agrees_with_tencentcloud_sdk(body: bytes, key: str, timestamp: int) -> None:
    content_type = "application/json; charset=utf-8"
    ours = tc3_authorization(
        secret_id="AKID",
        secret_key=key,
        service="sms",
        host="sms.tencentcloudapi.com",
        content_type=content_type,
        timestamp=timestamp,
        body=body,
    )
    date = ours.split("/")[1]
    request = SimpleNamespace(
        uri="/",
        method="POST",
        data=body,
        header={
            "Content-Type": content_type,
            "Host": "sms.tencentcloudapi.com",
            "X-TC-Timestamp": str(timestamp),
        },
    )
    expected = TencentOracle._get_tc3_signature(None, None, request, date, "sms", key)  # type: ignore[arg-type]
    assert ours.endswith(f"Signature={expected}")


@given(key=st.text(min_size=1), date=st.dates().map(str), message=st.text())
def test_tc3_key_derivation_agrees_with_sdk_sign(key: str, date: str, message: str) -> None:
    assert tc3_signature(key, date, "sms", message) == Sign.sign_tc3(key, date, "sms", message)


# --- Twilio --------------------------------------------------------------------------------------

DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def doc_params(caller: str) -> dict[str, list[str]]:
    """The POST parameters of Twilio's security doc example."""
    return {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": [caller],
        "Digits": ["1234"],
        "From": [caller],
        "To": ["+18005551212"],
    }


def test_twilio_reproduces_the_published_examples() -> None:
    """twilio.com/docs/usage/security: auth token 12345 over this URL and these parameters.

    The page has shown two Caller numbers over the years; both published signatures reproduce.
    """
    assert twilio_signature("12345", DOC_URL, doc_params("+14158675309")) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature("12345", DOC_URL, doc_params("+12349013030")) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio_signature_valid(
        "12345", DOC_URL, doc_params("+14158675309"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    assert not twilio_signature_valid(
        "12345", DOC_URL, doc_params("+14158675310"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_twilio_url_variants_toggle_only_the_default_port() -> None:
    assert twilio_url_variants("https://a.example/x?y=1") == [
        "https://a.example/x?y=1",
        "https://a.example:443/x?y=1",
    ]
    assert twilio_url_variants("http://a.example:80/x") == ["http://a.example:80/x", "http://a.example/x"]
    assert twilio_url_variants("https://a.example:8443/x") == ["https://a.example:8443/x"]


URLS = st.sampled_from(
    [
        "https://mailbox.example.com/webhooks/twilio/inbound",
        "https://mailbox.example.com:443/hook?x=1",
        "http://h.example/a",
    ]
)


@given(url=URLS, params=PARAMS, token=st.text(min_size=1, max_size=20), with_port=st.booleans())
def test_twilio_validation_agrees_with_request_validator(
    url: str, params: dict[str, str], token: str, with_port: bool
) -> None:
    signed_url = twilio_url_variants(url)[-1] if with_port else url
    signature = RequestValidator(token).compute_signature(signed_url, params)
    form = {key: [value] for key, value in params.items()}
    assert twilio_signature(token, signed_url, form) == signature
    assert twilio_signature_valid(token, url, form, signature) is RequestValidator(token).validate(
        url, params, signature
    )
    assert twilio_signature_valid(token, url, form, signature)
