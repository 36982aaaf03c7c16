"""The WeChat channel's templates fit their budgets, and a binding code never reaches the record."""

from __future__ import annotations

import pytest

from farmer_mailbox import wording
from farmer_mailbox.config import build_config
from gateways.common import billed_segments

SIGNATURE = build_config({}, env={}).sms.signature
KEYS = sorted(k for k in wording.TEMPLATES if k.startswith("wechat_") or k == "bind_code")


@pytest.mark.parametrize("key", KEYS)
def test_samples_fit_the_budget(key: str) -> None:
    template = wording.TEMPLATES[key]
    text = wording.render(key, template.samples)
    assert billed_segments(SIGNATURE, text) <= template.segments


def test_the_code_sms_is_one_segment_and_masked_in_the_record() -> None:
    params = {"code": "654321", "minutes": "10"}
    assert "654321" in wording.render("bind_code", params)
    shown = wording.render_for_record("bind_code", params)
    assert "654321" not in shown and "******" in shown
    assert wording.render_for_record("help", {}) == wording.render("help", {})
