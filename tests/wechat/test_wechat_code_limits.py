"""Per-phone limits on binding codes: however many openids ask, one phone gets at most 1 code a
minute, 5 an hour, 10 a day; codes go at once (even at 2 a.m.); the refusal is the same for
registered and unregistered phones."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox import wording
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.wechat.limits import PhoneLimits, phone_wait, wait_text
from tests.wechat.conftest import Start
from tests.wechat.service_rig import WechatRig

SH = ZoneInfo("Asia/Shanghai")
PHONE, UNREGISTERED = "13900000016", "13900000099"
T0 = datetime(2026, 6, 2, 2, 0, tzinfo=SH)


def openid(n: int) -> str:
    return f"o_attacker_{n:017d}"


def codes_to(rig: WechatRig, phone: str) -> int:
    return len([s for s in rig.sms.sent if s.to == phone and s.template_key == "bind_code"])


async def ask(rig: WechatRig, who: str, phone: str) -> str:
    answer = (await rig.text(who, f"绑定 {phone}")).text
    await rig.passive.close()
    await rig.deliver()
    return answer


async def test_many_openids_at_night_get_a_phone_one_code_a_minute_and_five_an_hour(
        start: Start, clock: ManualClock) -> None:
    clock.set(T0)
    async with start() as rig:
        await rig.register(PHONE, name="陈建国")
        assert "验证码已短信发出" in await ask(rig, openid(1), PHONE)
        assert codes_to(rig, PHONE) == 1                              # at 02:00: codes are not held
        refused = await ask(rig, openid(2), PHONE)                     # another openid, same minute
        assert refused == wording.render("wechat_code_phone_limit", {"wait": "1分钟"})
        for n in range(3, 12):                                         # one openid per minute
            clock.advance(timedelta(seconds=61))
            await ask(rig, openid(n), PHONE)
        assert codes_to(rig, PHONE) == 5
        clock.set(T0 + timedelta(minutes=59))                          # the 02:00 code counts for 1 more minute
        assert await ask(rig, openid(20), PHONE) == wording.render("wechat_code_phone_limit", {"wait": "1分钟"})
        clock.set(T0 + timedelta(hours=1, seconds=1))                  # the 02:00 code has aged out
        await ask(rig, openid(22), PHONE)
        assert codes_to(rig, PHONE) == 6


async def test_ten_a_day_then_hours_to_wait(start: Start, clock: ManualClock) -> None:
    clock.set(T0)
    async with start() as rig:
        await rig.register(PHONE)
        for n in range(12):
            await ask(rig, openid(n), PHONE)
            clock.advance(timedelta(hours=1, minutes=1))
        assert codes_to(rig, PHONE) == 10
        assert (await ask(rig, openid(99), PHONE)).endswith("小时后再试。")


async def test_the_refusal_does_not_tell_registered_from_unregistered(start: Start, clock: ManualClock) -> None:
    clock.set(T0)
    async with start() as rig:
        await rig.register(PHONE)
        answers = {}
        for base, phone in ((10, PHONE), (20, UNREGISTERED)):
            first = await ask(rig, openid(base), phone)
            again = await ask(rig, openid(base), phone)                # the same openid: the resend wait
            other = await ask(rig, openid(base + 1), phone)            # another openid: the phone's limit
            answers[phone] = (first.replace(phone[-4:], "####"), again, other)
        assert answers[PHONE] == answers[UNREGISTERED]
        assert codes_to(rig, PHONE) == 1 and codes_to(rig, UNREGISTERED) == 0
        stored = await rig.scalar("SELECT group_concat(key_hash) FROM bind_code_requests")
        assert PHONE not in stored and UNREGISTERED not in stored      # kept as keyed hashes only


async def test_limits_come_from_the_wechat_section(start: Start, clock: ManualClock) -> None:
    clock.set(T0)
    async with start(code_per_phone_minute=2, code_resend_seconds=0) as rig:
        await rig.register(PHONE)
        for n in range(3):
            await ask(rig, openid(n), PHONE)
        assert codes_to(rig, PHONE) == 2


def test_wait_text_rounds_up() -> None:
    assert [wait_text(timedelta(seconds=s)) for s in (1, 59, 61, 3599, 3600, 3601, 86399)] == [
        "1分钟", "1分钟", "2分钟", "1小时", "1小时", "2小时", "24小时"]


@given(st.lists(st.integers(min_value=0, max_value=3 * 86400), max_size=60))
def test_a_phone_never_gets_more_than_the_limits_in_any_window(offsets: list[int]) -> None:
    limits = PhoneLimits(1, 5, 10)
    granted: list[datetime] = []
    for offset in sorted(offsets):
        now = T0 + timedelta(seconds=offset)
        if phone_wait(granted, now, limits) is None:
            granted.append(now)
    for i, at in enumerate(granted):
        for window, most in limits.windows():
            assert len([g for g in granted[i:] if g < at + window]) <= most


@given(st.lists(st.integers(min_value=0, max_value=86400), max_size=30))
def test_after_the_wait_a_code_may_go(offsets: list[int]) -> None:
    limits = PhoneLimits(1, 5, 10)
    asked = sorted(T0 + timedelta(seconds=s) for s in offsets)
    now = T0 + timedelta(days=1)
    wait = phone_wait(asked, now, limits)
    if wait is not None:
        assert phone_wait(asked, now + wait, limits) is None
