"""Binding an openid to a real-name account: 绑定 phone → a code by SMS → the code in WeChat.

Only a registered, active user's phone gets a code, and the answer in WeChat is the same either
way (no one learns from it whether a number is registered). Codes expire (`code_minutes`); wrong
codes count per openid across codes, and `code_attempts` of them lock binding for `lock_minutes`.
One phone gets at most `code_per_phone_minute` / `_hour` / `_day` codes however many openids ask
(wechat.limits); codes go at once, quiet hours or not, and those limits keep them from being a
way to flood a phone at night. One openid asks at most once per `code_resend_seconds`. Both limits
count requests for unregistered phones too, so neither answer tells whether a number is registered.
The code is kept as a keyed hash; its SMS loses it from its parameters once spent or void (and is
cancelled if not sent yet), and the message record shows it masked. Every code sent, lock, bind
and unbind is in the record.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from farmer_mailbox.models import UserStatus
from farmer_mailbox.privacy import mask_phone
from farmer_mailbox.store import NewRecord, Received, Tx
from farmer_mailbox.store.sql_wechat import CodeState
from farmer_mailbox.validation import ValidationError, validate_mobile
from farmer_mailbox.wechat.codes import code_hash, code_matches, new_code
from farmer_mailbox.wechat.limits import DAY, PhoneLimits, phone_wait, wait_text

if TYPE_CHECKING:
    from farmer_mailbox.models import User
    from farmer_mailbox.replies import Reply
    from farmer_mailbox.services import Services

CHANNEL = "wechat"
PHONE_PURPOSE = "wechat-bind-phone v1"     # phones asked for, and the openids asking, are
OPENID_PURPOSE = "wechat-bind-openid v1"   # counted by keyed hash only (bind_code_requests)
SPENT = {"code": "******"}   # a spent or void code in its SMS's parameters (a waiting SMS is cancelled)


async def record(tx: Tx, at: datetime, what: str, openid: str, user_id: int | None, **detail: object) -> None:
    """A WeChat binding event in the message record."""
    await tx.append_record(NewRecord(kind="event", channel=CHANNEL, at=at, user_id=user_id, address=openid,
                                     text=what, detail=json.dumps(detail, ensure_ascii=False) if detail else ""))


def _locked(state: CodeState | None, now: datetime) -> bool:
    return state is not None and state.locked_until is not None and state.locked_until > now


def _failures(state: CodeState | None, now: datetime) -> int:
    """Wrong tries that still count: none once a lock has run out."""
    if state is None or (state.locked_until is not None and state.locked_until <= now):
        return 0
    return state.failures


class Binder:
    """The binding rules, over one transaction at a time."""

    def __init__(self, services: Services) -> None:
        self.vault, self.clock = services.vault, services.clock
        rules = services.config.wechat
        self.ttl = timedelta(minutes=rules.code_minutes)
        self.ttl_text = f"{rules.code_minutes:g}"
        self.attempts = rules.code_attempts
        self.lock = timedelta(minutes=rules.lock_minutes)
        self.resend = timedelta(seconds=rules.code_resend_seconds)
        self.phone_limits = PhoneLimits(rules.code_per_phone_minute, rules.code_per_phone_hour,
                                        rules.code_per_phone_day)

    def _minutes(self, until: datetime | None, now: datetime) -> int:
        return max(1, math.ceil(((until or now) - now).total_seconds() / 60))

    async def request_code(self, tx: Tx, msg: Received, phone_text: str, reply: Reply) -> None:
        """绑定 phone: send a code by SMS when the phone is an active user's; answer alike either way."""
        now, openid = self.clock.now(), msg.sender
        state = await tx.code_state(openid)
        if _locked(state, now):
            reply.say("wechat_locked", {"minutes": self._minutes(state.locked_until if state else None, now)})
            return
        openid_key = self.vault.mac(OPENID_PURPOSE, openid)
        if last := await self._last_request(tx, openid_key, now):
            reply.say("wechat_code_wait", {"seconds": math.ceil((last + self.resend - now).total_seconds())})
            return
        try:
            phone = validate_mobile(phone_text)
        except ValidationError:
            reply.say("wechat_bind_usage")
            return
        phone_key = self.vault.mac(PHONE_PURPOSE, phone)
        wait = phone_wait(await tx.code_requests_since(phone_key, now - DAY), now, self.phone_limits)
        if wait is not None:
            reply.say("wechat_code_phone_limit", {"wait": wait_text(wait)})
            return
        await tx.add_code_request([phone_key, openid_key], now, now - max(DAY, self.resend))
        user = await tx.user_by_phone(phone)
        if user is not None and user.status is UserStatus.ACTIVE:
            await self._send_code(tx, msg, user, state, reply, now)
        reply.say("wechat_code_sent", {"phone_masked": mask_phone(phone), "minutes": self.ttl_text})

    async def _last_request(self, tx: Tx, openid_key: str, now: datetime) -> datetime | None:
        """This openid's request still inside the resend interval, registered phone or not."""
        if self.resend <= timedelta(0):
            return None
        recent = [at for at in await tx.code_requests_since(openid_key, now - self.resend) if at > now - self.resend]
        return recent[-1] if recent else None

    async def _send_code(self, tx: Tx, msg: Received, user: User, state: CodeState | None, reply: Reply,
                         now: datetime) -> None:
        code = new_code()
        reply.to(user.phone, "bind_code", {"code": code, "minutes": self.ttl_text},
                 user_id=user.id, channel="sms")
        sms = reply.messages[-1] = replace(reply.messages[-1], expires_at=now + self.ttl)   # useless later
        if state is not None and state.outbox_key:
            await tx.void_outbox_params(state.outbox_key, SPENT, now)   # the previous code is void
        await tx.save_code(CodeState(msg.sender, user.id, code_hash(self.vault, msg.sender, user.id, code),
                                     sms.idem_key, now, now + self.ttl, _failures(state, now), None))
        await record(tx, now, "wechat_bind_code", msg.sender, user.id, phone=mask_phone(user.phone))

    async def confirm_code(self, tx: Tx, msg: Received, code: str, reply: Reply) -> None:
        """A six-digit code from an unbound openid: bind on the right one, count the wrong ones."""
        now, openid = self.clock.now(), msg.sender
        state = await tx.code_state(openid)
        if _locked(state, now):
            reply.say("wechat_locked", {"minutes": self._minutes(state.locked_until if state else None, now)})
            return
        if state is None or state.user_id is None or not state.code_hash or (state.expires_at or now) <= now:
            reply.say("wechat_code_expired")
            return
        if not code_matches(self.vault, state.code_hash, openid, state.user_id, code):
            await self._wrong(tx, state, reply, now)
            return
        user = await tx.get_user(state.user_id)
        await tx.delete_code(openid)
        await tx.void_outbox_params(state.outbox_key, SPENT, now)
        if user is None or user.status is not UserStatus.ACTIVE:
            reply.say("wechat_code_expired")
            return
        await self._bind(tx, msg, user, reply, now)

    async def _wrong(self, tx: Tx, state: CodeState, reply: Reply, now: datetime) -> None:
        failures = _failures(state, now) + 1
        if failures < self.attempts:
            await tx.save_code(replace(state, failures=failures))
            reply.say("wechat_code_wrong", {"left": self.attempts - failures})
            return
        await tx.save_code(replace(state, code_hash="", failures=failures, locked_until=now + self.lock))
        await tx.void_outbox_params(state.outbox_key, SPENT, now)
        await record(tx, now, "wechat_bind_locked", state.openid, state.user_id, failures=failures,
                     until=(now + self.lock).isoformat())
        reply.say("wechat_locked", {"minutes": self._minutes(now + self.lock, now)})

    async def _bind(self, tx: Tx, msg: Received, user: User, reply: Reply, now: datetime) -> None:
        replaced = await tx.bind_openid(msg.sender, user.id, now, min(msg.received_at, now))
        for old in replaced:
            await record(tx, now, "wechat_unbind", old, user.id, reason="replaced", by=msg.sender)
        await record(tx, now, "wechat_bind", msg.sender, user.id, phone=mask_phone(user.phone))
        reply.to(msg.sender, "wechat_bound", {"name": user.name, "phone_masked": mask_phone(user.phone)},
                 user_id=user.id, channel=CHANNEL)

    async def unbind(self, tx: Tx, msg: Received, user: User, reply: Reply) -> None:
        """解绑: the openid no longer speaks for the user; waiting WeChat messages go by SMS."""
        now = self.clock.now()
        if await tx.unbind_openid(msg.sender) is not None:
            await tx.move_waiting_to_sms(msg.sender)
            await record(tx, now, "wechat_unbind", msg.sender, user.id, reason="user")
        reply.to(msg.sender, "wechat_unbind_ok", {"phone_masked": mask_phone(user.phone)}, user_id=user.id,
                 channel=CHANNEL)
