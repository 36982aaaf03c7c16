"""Moderation: postings with web addresses, other people's numbers or from flagged users wait for a
liaison; liaisons approve or hide within their villages; every action is on the record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.market import staff
from farmer_mailbox.market.moderation import REASON_FLAGGED, REASON_PHONE, REASON_URL, hold_reason
from farmer_mailbox.models import Channel
from farmer_mailbox.scoping import Actor
from farmer_mailbox.validation import ValidationError
from tests.market.conftest import CHEN, LIAISON, XU, YANG, Market


@pytest.mark.parametrize(("text", "phones", "flagged", "reason"), [
    ("卖葡萄苗5000株", (), False, ""),
    ("卖葡萄苗5000株 电话13900000011", ("13900000011",), False, ""),
    ("卖葡萄苗5000株 电话13812345678", ("13812345678",), False, REASON_PHONE),
    ("卖葡萄苗 详见 www.example.com", (), False, REASON_URL),
    ("卖葡萄苗 看 http://t.cn/abc", (), False, REASON_URL),
    ("卖葡萄苗5000株", (), True, REASON_FLAGGED),
])
def test_hold_reasons(text: str, phones: tuple[str, ...], flagged: bool, reason: str) -> None:
    assert hold_reason(text, phones, "13900000011", flagged) == reason


async def _liaison(market: Market) -> Actor:
    accounts = market.runtime.services.accounts
    return await accounts.actor_for(await accounts.find(LIAISON), Channel.API)


async def test_a_held_posting_is_matched_only_after_approval(market: Market) -> None:
    reply = await market.one(XU, "卖葡萄苗5000株 联系13812345678")
    assert reply == "信息已收到(编号1),因含其他电话号码,需联络员审核后发布。"
    got = await market.sms(YANG, "买葡萄苗")
    assert XU not in got and got[YANG][0].endswith("有匹配时会短信告诉您。")
    pending = await staff.list_postings(market.runtime.market, await _liaison(market))
    assert [p.id for p in pending] == [1]
    await staff.approve(market.runtime.market, await _liaison(market), 1)
    got = await market.flush()
    assert "匹配1条" in got[XU][0]
    assert got[YANG] == ["有人出售葡萄苗5000株(龙山镇山下村),回LX1取联系方式,回HF1+内容留言。"]
    record = [e.text for e in await market.runtime.services.store.record_tail(10)]
    assert "posting_approved 1" in record and "posting_held 1" in record


async def test_liaisons_act_only_in_their_villages(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗 www.example.com")     # 子陵村: another liaison point
    with pytest.raises(ValidationError) as refused:
        await staff.approve(market.runtime.market, await _liaison(market), 1)
    assert refused.value.code == "scope.village"
    assert await staff.list_postings(market.runtime.market, await _liaison(market)) == []


async def test_hiding_takes_a_posting_down_and_tells_the_poster(market: Market) -> None:
    await market.sms(XU, "卖葡萄苗5000株")
    await staff.hide(market.runtime.market, await _liaison(market), 1, "虚假信息")
    got = await market.flush()
    assert got[XU] == ["您的信息(编号1)已被联络员下架。如有疑问请联系本村联络点。"]
    got = await market.sms(YANG, "买葡萄苗")
    assert XU not in got
    with pytest.raises(ValidationError) as refused:
        await staff.hide(market.runtime.market, await _liaison(market), 1)
    assert refused.value.code == "posting.state"


async def test_flagged_users_wait_for_approval(market: Market) -> None:
    accounts = market.runtime.services.accounts
    await accounts.update(await _liaison(market), XU, flagged=True)
    assert "账号需审核" in await market.one(XU, "卖葡萄苗5000株")


async def test_changes_made_by_another_process_reach_the_book(market: Market, make_market: object) -> None:
    await market.sms(XU, "卖葡萄苗 www.example.com")
    # a CLI process approves with its own book; the service notices on its next upkeep round
    from farmer_mailbox.cli_market import GatewayRouter, Outbox
    from farmer_mailbox.market.core import Market as MarketCore
    services = market.runtime.services
    other = MarketCore(services, Outbox(services.store, GatewayRouter({}, {}), services.config, services.clock))
    await other.book.rebuild(services.store)
    await staff.approve(other, await _liaison(market), 1)
    assert 1 not in market.runtime.market.book.index
    assert (await market.upkeep()).synced >= 1
    assert 1 in market.runtime.market.book.index


@given(st.text(max_size=200), st.lists(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), max_size=3))
def test_the_senders_own_number_never_holds_a_posting(text: str, others: list[str]) -> None:
    own = "13900000011"
    reason = hold_reason(text, [own], own, flagged=False)
    assert reason in ("", REASON_URL)
    assert hold_reason(text, [own, *others], own, flagged=False) in (
        "", REASON_URL, REASON_PHONE if any(o != own for o in others) else "")
