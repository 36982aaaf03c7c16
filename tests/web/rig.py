"""Helpers for the web tests: the app's config (memory for sending, Twilio for signed webhooks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from farmer_mailbox.config import build_config
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.web.keys import RUNTIME
from tests.helpers import TEST_ENV

PUBLIC_URL = "https://mailbox.example.com"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
ENV = {**TEST_ENV, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN}

AppClient = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[AppClient]]


def web_config(database: Path) -> Any:
    """Replies through memory; a Twilio gateway whose webhooks are signed with TWILIO_TOKEN."""
    return build_config({
        "service": {"database": str(database), "public_url": PUBLIC_URL},
        "gateways": {
            "mem": {"type": "memory"},
            "twilio": {"type": "twilio", "account_sid": "AC" + "0" * 32, "secret_env": "TWILIO_AUTH_TOKEN",
                       "from_number": "+15005550006"},
        },
        "routes": {"replies": ["mem"], "matches": ["mem"], "alerts": ["mem"]},
        "alerts": {"pest_calendar": False},
        "weather": {"forecast_provider": "none"},
    }, env={})


def runtime_of(client: AppClient) -> Runtime:
    """The Runtime behind a test client's app."""
    app = client.app
    assert app is not None
    return app[RUNTIME]
