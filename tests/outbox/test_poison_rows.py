"""One bad row fails alone: the rest of its batch is sent once, and a bad message never gets in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.outbox.conftest import Rig


async def _plant(rig: Rig, key: str, to: str, template_key: str, params: dict[str, str]) -> None:
    """Write a row as an older release (or a direct store write) could have left it: params unchecked."""
    row = rig.outbox.row(rig.msg(key, to=to))._replace(template_key=template_key, params=params)
    async with rig.services.store.transaction() as tx:
        await tx.enqueue([row])


async def test_a_row_that_cannot_render_fails_and_the_others_go_once(rig: Rig) -> None:
    await rig.outbox.send_now(rig.msg("good1", to="13900000001"))
    await _plant(rig, "bad", "13900000002", "register_failed", {})
    await rig.outbox.send_now(rig.msg("good2", to="13900000003"))
    assert await rig.outbox.dispatch_once() == 3
    bad = await rig.services.store.outbox_by_key("bad")
    assert bad and bad.status == "failed" and "reason" in (bad.error or "")
    assert await rig.services.store.outbox_status_counts() == {"sent": 2, "failed": 1}
    rig.clock.advance(timedelta(minutes=10))         # well past the lease: nothing comes back
    assert await rig.outbox.housekeeping() == (0, 0)
    await rig.outbox.drain()
    assert sorted(s.idempotency_key for s in rig.primary.sent) == ["good1", "good2"]


async def test_a_gateway_that_raises_for_one_row_does_not_stop_the_batch(rig: Rig) -> None:
    rig.primary.fail_for("13900000002", code="bad_number", retryable=False)
    await rig.outbox.send_now(*(rig.msg(f"k{i}", to=f"1390000000{i}") for i in (1, 2, 3)))
    await rig.outbox.drain()
    statuses = {k: (await rig.services.store.outbox_by_key(k)).status for k in ("k1", "k2", "k3")}  # type: ignore[union-attr]
    assert statuses == {"k1": "sent", "k2": "failed", "k3": "sent"}


async def test_a_message_missing_a_template_param_is_refused_at_enqueue(rig: Rig) -> None:
    with pytest.raises(KeyError, match=r"register_failed.*reason"):
        await rig.outbox.send_now(rig.msg("ok"), rig.msg("bad", template_key="register_failed", params={}))
    # The caller's transaction rolled back: not even the good message of the same call is queued.
    assert await rig.services.store.outbox_status_counts() == {}


async def test_unknown_templates_are_refused_at_enqueue(rig: Rig) -> None:
    with pytest.raises(KeyError, match="no_such_template"):
        rig.outbox.row(rig.msg("x", template_key="no_such_template"))


async def test_extra_params_are_allowed(rig: Rig) -> None:
    assert await rig.outbox.send_now(rig.msg("k", params={"unused": "x"})) == 1
