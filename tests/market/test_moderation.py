"""Moderation: postings with web addresses, other people's numbers or from flagged users wait for a
liaison; liaisons approve or hide within their villages; every action is on the record."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from farmer_mailbox.market import staff
from farmer_mailbox.market.moderation import REASON_FLAGGED, REASON_PHONE, REASON_URL, hold_reason
from farmer_mailbox.models import Channel
from farmer_mailbox.scoping import Actor
from farmer_mailbox.validation import ValidationError
from tests.market.conftest import CHEN, LIAISON, SHEN, XU, YANG, Market


@pytest.mark.parametrize(("text", "phones", "flagged", "reason"), [
    ("卖葡萄苗5000株", (), False, ""),
    ("卖葡萄苗5000株 电话13900000011", ("13900000011",), False, ""),
    ("卖葡萄苗5000株 电话13812345678", ("13812345678",), False, REASON_PHONE),
    ("卖葡萄苗 详见 www.example.com", (), False, REASON_URL),
    ("卖葡萄苗 看 http://t.cn/abc", (), False, REASON_URL),
    ("卖葡萄苗5000株", (), True, REASON_FLAGGED),
    # numbers spelled out, and addresses with Chinese or spaced dots
    ("卖葡萄苗 电话一三八一二三四五六七八", (), False, REASON_PHONE),
    ("卖葡萄苗 电话幺三八 一二三四 五六七八", (), False, REASON_PHONE),
    ("卖葡萄苗 电话138一二三四5678", (), False, REASON_PHONE),
    ("卖葡萄苗 电话壹叁捌壹贰叁肆伍陆柒捌", (), False, REASON_PHONE),
    ("卖葡萄苗 加QQ一二三四五六七八九", (), False, REASON_PHONE),
    ("卖葡萄苗 电话一三九〇〇〇〇〇〇一一", (), False, ""),            # the sender's own number
    ("卖葡萄苗 详见baidu。com", (), False, REASON_URL),
    ("卖葡萄苗 www 。xx。cn", (), False, REASON_URL),
    ("卖葡萄苗 看 xx点com", (), False, REASON_URL),
    ("卖葡萄苗 baidu.com联系", (), False, REASON_URL),
    ("卖葡萄苗五千株 一株三块五 一二百株也卖", (), False, ""),        # amounts in words are no number
    ("卖鸡蛋300斤1块5一斤,下午3点来拿", (), False, ""),
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
    alone = hold_reason(text, [], own, flagged=False)
    assert hold_reason(text, [own], own, flagged=False) == alone
    expected = alone or (REASON_PHONE if any(o != own for o in others) else "")
    assert hold_reason(text, [own, *others], own, flagged=False) == expected


@given(st.text(alphabet="卖葡萄苗株斤元一二三四五六七八九十百千万两 ,。.0123456789", max_size=60))
def test_text_without_seven_digits_in_a_row_is_never_held_for_a_number(text: str) -> None:
    spelled = text.translate(str.maketrans("〇一二三四五六七八九", "0123456789"))
    assume(not re.search(r"\d[\d ]{5,}\d", spelled))
    assert hold_reason(text, [], "13900000011", flagged=False) in ("", REASON_URL)


async def _deal(market: Market) -> None:
    await market.sms(CHEN, "卖葡萄苗5000株")
    await market.sms(YANG, "求购葡萄苗2000株")


async def test_relays_with_addresses_or_other_numbers_are_refused(market: Market) -> None:
    await _deal(market)
    for text in ("HF1 加我微信 wx。com", "HF1 打我朋友电话13812345678", "HF1 电话一三八一二三四五六七八"):
        got = await market.sms(YANG, text)
        assert got == {YANG: ["留言不能带网址或别人的电话号码,请改后再发。"]}
    got = await market.sms(YANG, f"HF1 我电话{YANG}")          # one's own number is one's own choice
    assert got[CHEN] == [f"序号1对方留言:我电话{YANG}(回HF1+内容回复)"]
    record = [e.text for e in await market.runtime.services.store.record_tail(20)]
    assert record.count("relay_refused") == 3


async def test_a_long_relay_is_clipped_to_one_segment_and_the_sender_told(market: Market) -> None:
    await _deal(market)
    long = ("明天上午十点我开三轮车过来看苗,麻烦您在村口小店等我一下,价格可以再商量,谢谢!"
            "如果下雨就改到后天上午,您看行吗?")
    got = await market.sms(YANG, "HF1 " + long)
    (sent,) = got[CHEN]
    assert len("【农民信箱】" + sent) <= 70 and sent.endswith("…(回HF1+内容回复)")
    kept = len(sent) - len("序号1对方留言:…(回HF1+内容回复)")
    assert sent.startswith("序号1对方留言:" + long[:kept])
    assert got[YANG] == [f"留言太长,只转给对方前{kept}个字。"]


async def test_no_contact_over_a_cancelled_or_expired_posting(market: Market) -> None:
    await _deal(market)
    await market.sms(CHEN, "CX 1")
    for text in ("LX1", "HF1 还有苗吗"):
        got = await market.sms(YANG, text)
        assert got == {YANG: ["序号1的信息已撤销或过期,不能再联系。回WD看其他匹配。"]}
    await market.sms(XU, "卖葡萄苗3000株")
    await market.sms(SHEN, "求购葡萄苗100株")            # SHEN's number 1 is XU's posting
    market.later(days=31)
    await market.upkeep()
    assert await market.one(SHEN, "LX1") == "序号1的信息已撤销或过期,不能再联系。回WD看其他匹配。"
    assert await market.one(XU, "HF1 在吗") == "序号1的信息已撤销或过期,不能再联系。回WD看其他匹配。"
