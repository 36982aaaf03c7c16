"""The durable outbox over a real SQLite file: nothing lost, nothing sent twice, nothing at 2 a.m."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from farmer_mailbox.demo import load_demo
from farmer_mailbox.models import UserStatus
from tests.outbox.conftest import Rig

SH = ZoneInfo("Asia/Shanghai")


async def test_the_same_key_twice_sends_once(rig: Rig) -> None:
    assert await rig.outbox.send_now(rig.msg("k1")) == 1
    assert await rig.outbox.send_now(rig.msg("k1")) == 0
    await rig.outbox.drain()
    assert len(rig.primary.sent) == 1
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "sent" and row.gateway == "primary" and row.external_id


async def test_text_is_rendered_locally_and_segments_are_stored(rig: Rig) -> None:
    await rig.outbox.send_now(rig.msg("k1", template_key="register_failed", params={"reason": "手机号格式不对"}))
    await rig.outbox.drain()
    assert rig.primary.sent[0].text == "注册未成功:手机号格式不对"
    assert rig.primary.sent[0].template_key == "register_failed"
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.segments == 1


async def test_retryable_errors_fail_over_to_the_next_gateway(rig: Rig) -> None:
    rig.primary.fail_next(1, code="throttled", retryable=True)
    await rig.outbox.send_now(rig.msg("k1"))
    await rig.outbox.drain()
    assert not rig.primary.sent and len(rig.backup.sent) == 1
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "sent" and row.gateway == "backup" and row.attempts == 2


async def test_after_the_last_gateway_it_backs_off_then_succeeds(rig: Rig) -> None:
    rig.primary.fail_next(2, code="down", retryable=True)
    rig.backup.fail_next(1, code="down", retryable=True)
    await rig.outbox.send_now(rig.msg("k1"))
    await rig.outbox.drain()
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "errored" and "down" in (row.error or "")
    wait = (row.due_at - rig.clock.now()).total_seconds()
    assert 5 <= wait <= 20                     # base 10 s with equal jitter after two attempts
    rig.clock.advance(timedelta(seconds=wait))
    await rig.outbox.drain()                   # primary fails again, backup sends
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "sent" and row.attempts == 4


async def test_a_non_retryable_error_fails_with_its_reason(rig: Rig) -> None:
    rig.primary.fail_for("13900000011", code="bad_number", retryable=False)
    await rig.outbox.send_now(rig.msg("k1"))
    await rig.outbox.drain()
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "failed" and "bad_number" in (row.error or "")
    assert not rig.backup.sent


async def test_a_message_that_cannot_go_before_its_expiry_expires(rig: Rig) -> None:
    await rig.outbox.send_now(rig.msg("k1", expires_at=rig.clock.now() + timedelta(seconds=3)))
    rig.primary.fail_next(5, retryable=True)
    rig.backup.fail_next(5, retryable=True)
    await rig.outbox.drain()
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "expired"


async def test_waiting_rows_expire_in_housekeeping(rig: Rig) -> None:
    later = rig.clock.now() + timedelta(hours=1)
    await rig.outbox.send_now(rig.msg("k1", not_before=later, expires_at=later))
    rig.clock.advance(timedelta(hours=2))
    assert await rig.outbox.housekeeping() == (1, 0)
    assert not rig.primary.sent


async def test_quiet_hours_hold_bulk_but_not_replies_or_urgent(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 6, 1, 23, 0, tzinfo=SH))
    await rig.outbox.send_now(rig.msg("reply"), rig.msg("match", purpose="match"),
                              rig.msg("alert", purpose="alert"), rig.msg("red", purpose="alert", urgent=True))
    await rig.outbox.drain()
    assert sorted(s.idempotency_key for s in rig.primary.sent) == ["red", "reply"]
    rig.clock.set(datetime(2026, 6, 2, 7, 0, tzinfo=SH))
    await rig.outbox.drain()
    assert len(rig.primary.sent) == 4


async def test_replies_go_before_bulk(rig: Rig) -> None:
    await rig.outbox.send_now(*[rig.msg(f"a{i}", to=f"1390000{i:04d}", purpose="alert") for i in range(5)])
    await rig.outbox.send_now(rig.msg("reply"))
    rig.outbox.cfg = rig.outbox.cfg.__class__(**{**rig.outbox.cfg.__dict__, "batch_size": 2})
    await rig.outbox.dispatch_once()
    assert rig.primary.sent[0].idempotency_key == "reply"


async def test_per_recipient_caps_hold_bulk_but_not_urgent(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(per_recipient_hour=2, per_recipient_day=3)
    rig.clock.set(datetime(2026, 6, 1, 10, 0, tzinfo=SH))
    await rig.outbox.send_now(*[rig.msg(f"m{i}", purpose="match") for i in range(4)],
                              rig.msg("urgent", purpose="alert", urgent=True))
    await rig.outbox.drain()
    assert len([s for s in rig.primary.sent if s.idempotency_key.startswith("m")]) == 2
    assert "urgent" in [s.idempotency_key for s in rig.primary.sent]
    rig.clock.advance(timedelta(hours=1, minutes=1))
    await rig.outbox.drain()
    assert len([s for s in rig.primary.sent if s.idempotency_key.startswith("m")]) == 3  # day cap
    rig.clock.set(datetime(2026, 6, 2, 7, 0, tzinfo=SH))
    await rig.outbox.drain()
    assert len([s for s in rig.primary.sent if s.idempotency_key.startswith("m")]) == 4


async def test_opted_out_users_get_only_the_confirmation(rig: Rig) -> None:
    await load_demo(rig.services.accounts)
    user = await rig.services.accounts.find("13900000011")
    async with rig.services.store.transaction() as tx:
        await tx.update_user(user.id, rig.clock.now(), status=UserStatus.OPTED_OUT)
    await rig.outbox.send_now(rig.msg("match", purpose="match", user_id=user.id),
                              rig.msg("bye", template_key="opted_out", user_id=user.id))
    await rig.outbox.drain()
    assert [s.idempotency_key for s in rig.primary.sent] == ["bye"]
    row = await rig.services.store.outbox_by_key("match")
    assert row and row.status == "cancelled"


async def test_receipts_move_status_forward_only(rig: Rig) -> None:
    await rig.outbox.send_now(rig.msg("k1"))
    await rig.outbox.drain()
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.external_id
    from gateways import DeliveryReceipt

    assert await rig.outbox.apply_receipts("primary", [DeliveryReceipt(row.external_id, "delivered")]) == 1
    await rig.outbox.apply_receipts("primary", [DeliveryReceipt(row.external_id, "sent", "late ack")])
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.status == "delivered"


async def test_a_receipt_that_beats_the_send_result_is_kept_and_applied(rig: Rig) -> None:
    from gateways import DeliveryReceipt

    await rig.outbox.send_now(rig.msg("k1"))
    # Kannel's DLR can arrive before we record the send: the memory gateway's next id is mem-1.
    assert await rig.outbox.apply_receipts("primary", [DeliveryReceipt("mem-1", "delivered")]) == 0
    await rig.outbox.drain()
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.external_id == "mem-1" and row.status == "delivered"


async def test_rows_left_sending_by_a_crash_are_sent_again(rig: Rig) -> None:
    await rig.outbox.send_now(rig.msg("k1"))
    async with rig.services.store.transaction() as tx:
        claimed = await tx.claim(rig.clock.now(), rig.clock.now() + timedelta(minutes=2), 10, False)
    assert [c.idem_key for c in claimed] == ["k1"]
    assert await rig.outbox.recover() == 1
    await rig.outbox.drain()
    assert len(rig.primary.sent) == 1
    assert (await rig.services.store.outbox_depths())["sending"] == 0


async def test_sent_messages_enter_the_message_record(rig: Rig) -> None:
    await rig.outbox.send_now(rig.msg("k1"))
    await rig.outbox.drain()
    (entry,) = await rig.services.store.record_tail(1)
    assert entry.kind == "outbound" and entry.address == "13900000011" and entry.gateway == "primary"
    assert entry.text.startswith("发") and entry.external_id


async def test_segment_totals_per_day_and_purpose(rig: Rig) -> None:
    long_reason = "很长的原因" * 20
    await rig.outbox.send_now(rig.msg("a"), rig.msg("b", purpose="match"),
                              rig.msg("c", template_key="register_failed", params={"reason": long_reason}))
    await rig.outbox.drain()
    start = rig.clock.now() - timedelta(days=1)
    totals = await rig.services.store.segment_totals(start, rig.clock.now() + timedelta(days=1), SH)
    by_purpose = {t.purpose: (t.messages, t.segments) for t in totals}
    assert by_purpose["reply"] == (2, 1 + 2) and by_purpose["match"] == (1, 1)
    assert {t.channel for t in totals} == {"sms"}
    assert datetime(2026, 5, 1, tzinfo=UTC).date().isoformat() in {t.day for t in totals}


async def test_totals_fall_on_the_configured_zone_s_local_days(rig: Rig) -> None:
    kolkata, new_york = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")
    for key, when in (("a", datetime(2026, 7, 1, 18, 20, tzinfo=UTC)),      # 23:50 in Kolkata, 14:20 NY
                      ("b", datetime(2026, 7, 1, 18, 40, tzinfo=UTC)),      # 00:10 next day in Kolkata
                      ("c", datetime(2026, 7, 2, 3, 30, tzinfo=UTC))):      # 23:30 on 1 July in New York
        rig.clock.set(when)
        await rig.outbox.send_now(rig.msg(key))
        await rig.outbox.drain()
    since, until = datetime(2026, 6, 30, tzinfo=UTC), datetime(2026, 7, 3, tzinfo=UTC)
    assert [(t.day, t.messages) for t in await rig.services.store.segment_totals(since, until, kolkata)] == [
        ("2026-07-01", 1), ("2026-07-02", 2)]
    assert [(t.day, t.messages) for t in await rig.services.store.segment_totals(since, until, new_york)] == [
        ("2026-07-01", 3)]                                           # EDT (-4): all three on 1 July


async def test_sends_before_local_midnight_do_not_count_towards_the_new_day(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(per_recipient_hour=6, per_recipient_day=2)
    rig.clock.set(datetime(2026, 6, 1, 20, 40, tzinfo=SH))     # before quiet hours: the caps apply
    await rig.outbox.send_now(rig.msg("m1", purpose="match"), rig.msg("m2", purpose="match"))
    await rig.outbox.drain()
    late = datetime(2026, 6, 2, 0, 20, tzinfo=SH)
    counts = await rig.services.store.recipient_counts(["13900000011"], late - timedelta(hours=1),
                                                       datetime(2026, 6, 2, tzinfo=SH))
    assert counts == {}                                        # neither window holds the 20:40 sends
    rig.clock.set(datetime(2026, 6, 1, 23, 50, tzinfo=SH))
    await rig.outbox.send_now(rig.msg("u", purpose="alert", urgent=True))   # urgent: never counted
    await rig.outbox.drain()
    rig.clock.set(datetime(2026, 6, 2, 7, 10, tzinfo=SH))
    await rig.outbox.send_now(rig.msg("m3", purpose="match"), rig.msg("m4", purpose="match"),
                              rig.msg("m5", purpose="match"))
    await rig.outbox.drain()
    sent = [s.idempotency_key for s in rig.primary.sent]
    assert sent[:3] == ["m1", "m2", "u"] and sorted(sent[3:]) == ["m3", "m4"]   # a fresh day, cap 2 again
    held = await rig.services.store.outbox_by_key("m5")
    assert held and held.status == "queued" and held.due_at == datetime(2026, 6, 3, 7, 0, tzinfo=SH)


async def test_the_hour_cap_counts_the_last_hour_across_midnight(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(per_recipient_hour=6, per_recipient_day=20, quiet_start="23:59", quiet_end="00:00")
    rig.clock.set(datetime(2026, 6, 1, 23, 40, tzinfo=SH))
    await rig.outbox.send_now(rig.msg("m1", purpose="match"))
    await rig.outbox.drain()
    late = datetime(2026, 6, 2, 0, 20, tzinfo=SH)
    counts = await rig.services.store.recipient_counts(["13900000011"], late - timedelta(hours=1),
                                                       datetime(2026, 6, 2, tzinfo=SH))
    assert counts == {"13900000011": (1, 0)}                  # last hour: yes; today: no


async def test_receipts_that_never_match_are_dropped_after_a_day(rig: Rig) -> None:
    from gateways import DeliveryReceipt

    assert await rig.outbox.apply_receipts("primary", [DeliveryReceipt("stray-1", "delivered")]) == 0
    rig.clock.advance(timedelta(hours=23))
    assert await rig.outbox.apply_receipts("primary", [DeliveryReceipt("mem-1", "delivered")]) == 0
    await rig.outbox.housekeeping()
    rig.clock.advance(timedelta(hours=2))
    await rig.outbox.housekeeping()                  # stray-1 is 25 h old: gone; mem-1 (2 h) stays
    await rig.outbox.send_now(rig.msg("k1"))
    await rig.outbox.drain()
    row = await rig.services.store.outbox_by_key("k1")
    assert row and row.external_id == "mem-1" and row.status == "delivered"
    async with rig.services.store.transaction() as tx:
        assert await tx.prune_early_receipts(rig.clock.now() + timedelta(days=30)) == 0   # both gone
