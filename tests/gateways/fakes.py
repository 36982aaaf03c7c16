"""Fake provider servers on 127.0.0.1 that check what the real providers check.

Each fake records every request, verifies it the way the provider does (signatures are
recomputed server-side with the providers' own SDK code as oracle, never with ours), answers in
the provider's format, and can be scripted: `fake.script.append(response)` answers the next
request with it; `fake.delay` stalls every answer. A request that fails verification is
answered like the provider would and its problems are kept in `fake.violations`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from alibabacloud_openapi_util.client import Client as AliyunOracle
from multidict import CIMultiDict
from tencentcloud.common.abstract_client import AbstractClient as TencentOracle

MAINLAND_MOBILE = re.compile(r"^1\d{10}$")


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    raw_query: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """The query decoded (first value wins)."""
        return dict(reversed(parse_qsl(self.raw_query, keep_blank_values=True)))

    @property
    def form(self) -> dict[str, str]:
        """The body as a decoded form."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON answer with non-ASCII kept."""
    return web.Response(
        status=status, text=json.dumps(data, ensure_ascii=False), content_type="application/json"
    )


class FakeProvider:
    """Base: an aiohttp server that records, verifies, answers or follows the script."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.script: deque[web.Response] = deque()
        self.delay = 0.0
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the server."""
        if self._runner:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        raw_query = request.raw_path.partition("?")[2]
        recorded = Recorded(request.method, request.path, raw_query, CIMultiDict(request.headers), body)
        self.requests.append(recorded)
        if self.delay:
            await asyncio.sleep(self.delay)
        problems = self.verify(recorded)
        if problems:
            self.violations.extend(problems)
            return self.reject(recorded, problems)
        if self.script:
            return self.script.popleft()
        return self.accept(recorded)

    def verify(self, req: Recorded) -> list[str]:
        """What the provider would refuse; [] when the request is acceptable."""
        raise NotImplementedError

    def reject(self, req: Recorded, problems: list[str]) -> web.Response:
        """The provider's answer to a request that fails verification."""
        raise NotImplementedError

    def accept(self, req: Recorded) -> web.Response:
        """The provider's answer to a good request."""
        raise NotImplementedError


# --- Kannel smsbox ------------------------------------------------------------------------------


class FakeKannel(FakeProvider):
    """smsbox's sendsms: GET only, user/password, coding and charset, a receiver."""

    def __init__(self, username: str = "tester", password: str = "foobar") -> None:
        super().__init__()
        self.username, self.password = username, password

    def verify(self, req: Recorded) -> list[str]:
        q = req.query
        if req.method != "GET":
            return ["400 Invalid content-type"]
        if (q.get("username") or q.get("user")) != self.username or (
            q.get("password") or q.get("pass")
        ) != self.password:
            return ["403 Authorization failed for sendsms"]
        if not q.get("to"):
            return ["400 Missing receiver number, rejected"]
        if not q["to"].isdigit():
            return ["400 Number(s) has/have been denied by white- and/or black-lists."]
        if q.get("coding") != "2" or q.get("charset") != "UTF-8":
            return ["400 Charset or body misformed, rejected"]  # we must always send UCS-2 from UTF-8
        return []

    def reject(self, req: Recorded, problems: list[str]) -> web.Response:
        status, _, text = problems[0].partition(" ")
        return web.Response(status=int(status), text=text, content_type="text/html")

    def accept(self, req: Recorded) -> web.Response:
        return web.Response(status=202, text="0: Accepted for delivery", content_type="text/html")


# --- Aliyun dysmsapi ----------------------------------------------------------------------------


class FakeAliyun(FakeProvider):
    """dysmsapi SendSms/SendBatchSms with ACS3 signatures checked by alibabacloud-openapi-util."""

    def __init__(self, access_key_id: str, secret: str) -> None:
        super().__init__()
        self.access_key_id, self.secret = access_key_id, secret

    def verify(self, req: Recorded) -> list[str]:
        problems = self._signature_problems(req)
        if problems:
            return problems
        q = req.query
        required = {
            "SendSms": ("PhoneNumbers", "SignName", "TemplateCode"),
            "SendBatchSms": ("PhoneNumberJson", "SignNameJson", "TemplateCode"),
        }
        action = req.headers.get("x-acs-action", "")
        missing = [key for key in required.get(action, ("?",)) if not q.get(key)]
        if missing:
            return [f"MissingParameter {key}" for key in missing]
        return self._batch_problems(q) if action == "SendBatchSms" else []

    @staticmethod
    def _batch_problems(q: dict[str, str]) -> list[str]:
        """SendBatchSms: JSON arrays of one length, a SignName per number, at most 100 numbers."""
        try:
            arrays = {key: json.loads(q[key]) for key in ("PhoneNumberJson", "SignNameJson", "TemplateParamJson")
                      if key in q}
        except ValueError:
            return ["InvalidParameter JSON arrays expected"]
        if not all(isinstance(value, list) and value for value in arrays.values()):
            return ["InvalidParameter JSON arrays expected"]
        if len({len(value) for value in arrays.values()}) != 1:
            return ["isv.PARAM_LENGTH_LIMIT numbers, signatures and params differ in count"]
        if len(arrays["PhoneNumberJson"]) > 100:
            return ["isv.PARAM_LENGTH_LIMIT at most 100 numbers"]
        return []

    def _signature_problems(self, req: Recorded) -> list[str]:
        auth = req.headers.get("Authorization", "")
        match = re.fullmatch(
            r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})", auth
        )
        if not match:
            return ["IncompleteSignature"]
        credential, signed, signature = match.groups()
        headers = {name: req.headers.get(name, "") for name in signed.split(";")}
        needed = {
            "host",
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-content-sha256",
        }
        if credential != self.access_key_id:
            return ["InvalidAccessKeyId.NotFound"]
        if not needed <= set(headers) or headers["x-acs-version"] != "2017-05-25":
            return ["IncompleteSignature: headers"]
        if headers["x-acs-content-sha256"] != hashlib.sha256(req.body).hexdigest():
            return ["ContentSha256Mismatch"]
        when = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - when).total_seconds()) > 900:
            return ["InvalidTimeStamp.Expired"]
        oracle_request = SimpleNamespace(
            method=req.method, pathname=req.path, query=req.query, headers=headers
        )
        expected = AliyunOracle.get_authorization(
            oracle_request,
            "ACS3-HMAC-SHA256",
            headers["x-acs-content-sha256"],
            self.access_key_id,
            self.secret,
        )
        return [] if expected.endswith(f"Signature={signature}") else ["SignatureDoesNotMatch"]

    def reject(self, req: Recorded, problems: list[str]) -> web.Response:
        code = problems[0].split(" ")[0].rstrip(":")
        status = 404 if code.startswith("InvalidAccessKeyId") else 400
        return json_response({"Code": code, "Message": problems[0], "RequestId": "FAKE"}, status)

    def accept(self, req: Recorded) -> web.Response:
        q = req.query
        numbers = (
            q.get("PhoneNumbers", "").split(",") if "PhoneNumbers" in q else json.loads(q["PhoneNumberJson"])
        )
        if not all(MAINLAND_MOBILE.match(number) for number in numbers):
            return json_response(
                {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "F"}
            )
        params = json.loads(q.get("TemplateParam", "{}"))
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return json_response(
                {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法", "RequestId": "F"}
            )
        biz_id = f"{secrets.randbelow(10**15):015d}^0"
        return json_response({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "F"})


# --- Tencent Cloud SMS --------------------------------------------------------------------------


class FakeTencent(FakeProvider):
    """SendSms 2021-01-11 with TC3 checked by tencentcloud-sdk-python-common's own signer."""

    def __init__(self, secret_id: str, secret_key: str) -> None:
        super().__init__()
        self.secret_id, self.secret_key = secret_id, secret_key

    def verify(self, req: Recorded) -> list[str]:
        h = req.headers
        if h.get("Content-Type") != "application/json; charset=utf-8":
            return ["InvalidParameter.ContentType"]
        if (
            h.get("X-TC-Action") != "SendSms"
            or h.get("X-TC-Version") != "2021-01-11"
            or not h.get("X-TC-Region")
        ):
            return ["MissingParameter.Header"]
        if abs(time.time() - int(h.get("X-TC-Timestamp", "0"))) > 300:
            return ["AuthFailure.SignatureExpire"]
        return self._signature_problems(req)

    def _signature_problems(self, req: Recorded) -> list[str]:
        h = req.headers
        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d\d-\d\d)/sms/tc3_request, "
            r"SignedHeaders=content-type;host, Signature=([0-9a-f]{64})",
            h.get("Authorization", ""),
        )
        if not match:
            return ["AuthFailure.InvalidAuthorization"]
        secret_id, date, signature = match.groups()
        if secret_id != self.secret_id:
            return ["AuthFailure.SecretIdNotFound"]
        oracle_req = SimpleNamespace(uri="/", method="POST", data=req.body, header=h)
        expected = TencentOracle._get_tc3_signature(None, None, oracle_req, date, "sms", self.secret_key)  # type: ignore[arg-type]
        return [] if expected == signature else ["AuthFailure.SignatureFailure"]

    def reject(self, req: Recorded, problems: list[str]) -> web.Response:
        return json_response(
            {"Response": {"Error": {"Code": problems[0], "Message": problems[0]}, "RequestId": "F"}}
        )

    def accept(self, req: Recorded) -> web.Response:
        body = req.json()
        required = ("PhoneNumberSet", "SmsSdkAppId", "TemplateId", "SignName")
        if missing := [key for key in required if not body.get(key)]:
            return self.reject(req, [f"MissingParameter.{missing[0]}"])
        params = body.get("TemplateParamSet", [])
        if not all(isinstance(value, str) for value in params):
            return self.reject(req, ["InvalidParameterValue.TemplateParameterFormatError"])
        return json_response(
            {
                "Response": {
                    "SendStatusSet": [self._status(n) for n in body["PhoneNumberSet"]],
                    "RequestId": "F",
                }
            }
        )

    @staticmethod
    def _status(number: str) -> dict[str, Any]:
        if not re.fullmatch(r"\+861\d{10}", number):
            return {
                "SerialNo": "",
                "PhoneNumber": number,
                "Fee": 0,
                "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": "bad number",
            }
        serial = f"2433:{secrets.randbelow(10**20):020d}"
        return {
            "SerialNo": serial,
            "PhoneNumber": number,
            "Fee": 1,
            "SessionContext": "",
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }


# --- Twilio -------------------------------------------------------------------------------------


class FakeTwilio(FakeProvider):
    """The Messages resource: Basic auth, form fields, E.164 To."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token

    def verify(self, req: Recorded) -> list[str]:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if req.headers.get("Authorization") != expected:
            return ["401 20003 Authenticate"]
        if req.method != "POST" or req.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return ["404 20404 The requested resource was not found"]
        if not req.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return ["400 21000 form body required"]
        form = req.form
        if not (form.get("From") or form.get("MessagingServiceSid")) or not form.get("Body"):
            return ["400 21602 Message body and From are required"]
        if not re.fullmatch(r"\+[1-9]\d{6,14}", form.get("To", "")):
            return ["400 21211 The 'To' number is not a valid phone number."]
        return []

    def reject(self, req: Recorded, problems: list[str]) -> web.Response:
        status, code, message = problems[0].split(" ", 2)
        return json_response(
            {"code": int(code), "message": message, "more_info": "", "status": int(status)}, int(status)
        )

    def accept(self, req: Recorded) -> web.Response:
        form = req.form
        sid = "SM" + secrets.token_hex(16)
        return json_response(
            {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"], "num_segments": "1"}, 201
        )


# --- a generic aggregator -----------------------------------------------------------------------


class FakeAggregator(FakeProvider):
    """A typical local aggregator: X-Api-Key, fields as JSON, a form or a GET query (whichever the
    request carries, as such aggregators accept), {"code": "0", "data": {"msgid"}}."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

    @staticmethod
    def fields(req: Recorded) -> dict[str, Any]:
        """The send's fields, wherever the method and content type put them."""
        if req.method == "GET":
            return req.query
        if req.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return req.form
        body = req.json()
        return body if isinstance(body, dict) else {}

    def verify(self, req: Recorded) -> list[str]:
        if req.headers.get("X-Api-Key") != self.api_key:
            return ["401 1001"]
        if req.method not in ("GET", "POST") or (req.method == "GET" and req.body):
            return ["400 1003"]
        body = self.fields(req)
        if not MAINLAND_MOBILE.match(str(body.get("mobile", ""))) or not body.get("content"):
            return ["200 1002"]
        return []

    def reject(self, req: Recorded, problems: list[str]) -> web.Response:
        status, code = problems[0].split(" ")
        return json_response({"code": code, "msg": "rejected"}, int(status))

    def accept(self, req: Recorded) -> web.Response:
        return json_response({"code": "0", "msg": "ok", "data": {"msgid": f"agg-{len(self.requests)}"}})
