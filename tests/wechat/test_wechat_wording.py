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


@pytest.mark.parametrize(("key", "channel"), sorted(wording.CHANNEL_TEXTS))
def test_channel_wording_takes_the_same_params_and_fits(key: str, channel: str) -> None:
    template = wording.TEMPLATES[key]
    assert wording.template_fields(key, channel) == wording.template_fields(key)
    text = wording.render(key, template.samples, channel)
    assert text != wording.render(key, template.samples)
    assert billed_segments(SIGNATURE, text) <= template.segments


def test_wechat_replies_do_not_promise_an_sms() -> None:
    for key, template in wording.TEMPLATES.items():
        if "短信告诉您" in template.text:
            assert "短信" not in wording.text_of(key, "wechat"), key
    assert wording.text_of("help", "wechat") == wording.TEMPLATES["help"].text     # no variant: the SMS text
