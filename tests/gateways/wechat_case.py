"""What the contract suite needs for the `wechat` gateway: its fake provider and its webhooks.

`FakeWechat` puts tests/wechat's FakeWechatApi behind the suite's fake-provider interface. One
WeChat send costs an access_token fetch (once, then cached) and one message call, so
`requests` lists only the message calls (custom and template); token fetches stay in
`fake.api.requests`. `script` answers the next message call once its token checks out, as a
FakeProvider's script answers after verification; `delay` stalls every answer, token fetches
included; `violations` are the calls the fake refused as malformed or unauthenticated.

`sign_push()` signs a recorded payload the way WeChat's servers do, with wechatpy (a dev-only
dependency) as the independent oracle: `signature` = sha1 of the sorted token, timestamp and
nonce; in safe mode the message is AES-encrypted into <Encrypt> and `msg_signature` covers it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import Any

import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.wechat.fake_api import MESSAGE_ENDPOINTS, FakeWechatApi, Recorded

WECHAT_TOKEN = "wechatToken2026"
WECHAT_APPID = "wx7aa640627a5fb265"
WECHAT_SECRET = "fake-wechat-app-secret"
WECHAT_AES_KEY = "CXP5Zdq0vJWHDMRXChQoRmiXdUoXPKxIIyC3eJiCCvY"  # EncodingAESKey: 43 characters
WECHAT_ACCOUNT = "gh_19b19ffc30ca"  # the account's original id, ToUserName of every push
WECHAT_OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"  # a farmer who follows the account
WECHAT_UNSUBSCRIBED = "o6_bmjrPTlm6_2sgVt7hUnfollow"  # one who unfollowed: WeChat answers 43004

PUSH_TIMESTAMP, PUSH_NONCE = "1763788391", "1538226917"
_ENCRYPT = re.compile(rb"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", re.DOTALL)


class FakeWechat:
    """FakeWechatApi seen through the contract suite's fake-provider interface."""

    def __init__(self, appid: str, secret: str, *, unsubscribed: Iterable[str] = ()) -> None:
        self.api = FakeWechatApi(appid=appid, secret=secret, unsubscribed=set(unsubscribed))

    @property
    def base_url(self) -> str:
        """The fake's http://127.0.0.1:<port>, the gateway's `api_base`."""
        return self.api.base_url

    @property
    def requests(self) -> list[Recorded]:
        """The message calls received (custom and template), token fetches left out."""
        return [req for req in self.api.requests if req.endpoint in MESSAGE_ENDPOINTS]

    @property
    def violations(self) -> list[str]:
        """The calls refused as malformed or unauthenticated ("errcode errmsg")."""
        return self.api.violations

    @property
    def script(self) -> deque[web.Response]:
        """Answers for the next message calls, given once their token checks out."""
        return self.api.script

    @property
    def delay(self) -> float:
        """Seconds every answer is stalled."""
        return self.api.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self.api.delay = seconds

    async def start(self) -> None:
        """Listen on a free loopback port."""
        await self.api.start()

    async def stop(self) -> None:
        """Close the server."""
        await self.api.stop()


# --- recorded pushes ----------------------------------------------------------------------------


def _sha1(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _signed(pairs: list[tuple[str, str]], name: str, signature: str, mode: str) -> list[tuple[str, str]]:
    """Add `name` as a row wants it: "ok" as is, "bad" one hex digit off, "missing" left out."""
    if mode == "missing":
        return pairs
    if mode == "bad":
        signature = format(int(signature[0], 16) ^ 1, "x") + signature[1:]
    return [*pairs, (name, signature)]


def _encrypt(row: dict[str, Any], message: bytes) -> str:
    """Encrypt with wechatpy for the row's appid (default: ours); return the <Encrypt> text."""
    crypto = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, row.get("appid", WECHAT_APPID))
    reply = xmltodict.parse(crypto.encrypt_message(message, PUSH_NONCE, PUSH_TIMESTAMP))
    return str(reply["xml"]["Encrypt"])


def sign_push(row: dict[str, Any], data: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """The query pairs and body WeChat would send for a payload row and its file's bytes.

    `mode`: "safe" (default) encrypts the file's XML into the envelope WeChat POSTs in safe
    mode; "envelope" sends the file as that envelope unchanged (signing its <Encrypt>, if any);
    "plain" sends the file as is. A `.query` file (a GET) is signed like a plain push.
    `signature`: "ok" (default), "bad" or "missing", applied to the signature the mode relies
    on (msg_signature in safe mode). `appid`: encrypt for another account.
    """
    mode = "plain" if row["file"].endswith(".query") else row.get("mode", "safe")
    tampering = row.get("signature", "ok")
    url_signature = _sha1(WECHAT_TOKEN, PUSH_TIMESTAMP, PUSH_NONCE)
    pairs = [("timestamp", PUSH_TIMESTAMP), ("nonce", PUSH_NONCE)]
    if mode == "plain":
        return _signed(pairs, "signature", url_signature, tampering), data
    if mode == "safe":
        ciphertext = _encrypt(row, data)
        data = (
            f"<xml><ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
        ).encode()
    else:
        found = _ENCRYPT.search(data)
        ciphertext = found.group(1).decode() if found else ""
    # Safe mode still carries the URL signature; only msg_signature (over <Encrypt>) counts.
    pairs = [("signature", url_signature), *pairs, ("encrypt_type", "aes")]
    msg_signature = _sha1(WECHAT_TOKEN, PUSH_TIMESTAMP, PUSH_NONCE, ciphertext)
    return _signed(pairs, "msg_signature", msg_signature, tampering), data
