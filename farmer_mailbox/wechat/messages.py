"""What only WeChat messages need, before the common conversation: the one entry `handle`.

- events: subscribe (welcome, or welcome back for a bound openid), unsubscribe (no more WeChat
  pushes; waiting ones go by SMS; SMS continues), unsupported message types (ask for text), menu
  and scan events (nothing to say);
- an unbound openid: 绑定 phone, the six-digit code, and for anything else how to bind;
- a bound openid: 解绑, and 绑定 again (already bound). Everything else is the user's ordinary
  message, handled by the conversation exactly as an SMS from their phone.

Every message from a bound openid (but unsubscribe) renews the 48-hour customer-service window.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from farmer_mailbox import text as understanding
from farmer_mailbox.privacy import mask_phone
from farmer_mailbox.store import Received, Tx
from farmer_mailbox.wechat.binding import Binder, record

if TYPE_CHECKING:
    from farmer_mailbox.models import User
    from farmer_mailbox.replies import Reply
    from farmer_mailbox.services import Services

# 解绑 is read here, not in the text package: it means something on WeChat only.
UNBIND = re.compile(r"^\s*(?:解绑|解除绑定|取消绑定|jb)\s*[。.!！]?\s*$", re.IGNORECASE)
BIND = re.compile(r"^\s*(?:绑定|bd(?![a-z]))", re.IGNORECASE)


async def handle(tx: Tx, msg: Received, user: User | None, reply: Reply, services: Services) -> bool:
    """Handle what is WeChat-only; True when done, False when the conversation should go on."""
    now = services.clock.now()
    if user is not None and msg.event != "unsubscribe":
        await tx.touch_wechat(msg.sender, min(msg.received_at, now))
    if msg.event:
        await _event(tx, msg, user, reply, now)
        return True
    binder = Binder(services)
    if user is None:
        await _unbound(tx, msg, reply, binder, services)
        return True
    if UNBIND.match(msg.text):
        await binder.unbind(tx, msg, user, reply)
        return True
    if BIND.match(msg.text):
        reply.say("wechat_already_bound", {"phone_masked": mask_phone(user.phone)})
        return True
    return False


async def _event(tx: Tx, msg: Received, user: User | None, reply: Reply, now: datetime) -> None:
    if msg.event == "subscribe":
        if user is None:
            reply.say("wechat_welcome")
            return
        if await tx.set_subscribed(msg.sender, True, now):
            await record(tx, now, "wechat_subscribe", msg.sender, user.id)
        reply.say("wechat_welcome_back", {"phone_masked": mask_phone(user.phone)})
    elif msg.event == "unsubscribe":
        if user is not None and await tx.set_subscribed(msg.sender, False, now):
            moved = await tx.move_waiting_to_sms(msg.sender)
            await record(tx, now, "wechat_unsubscribe", msg.sender, user.id, moved_to_sms=moved)
    elif msg.event.startswith("unsupported:"):
        reply.say("wechat_text_only" if user is not None else "wechat_unbound")
    # CLICK, VIEW, SCAN, LOCATION...: no menu is configured, nothing to say.


async def _unbound(tx: Tx, msg: Received, reply: Reply, binder: Binder, services: Services) -> None:
    command = understanding.parse(msg.text, places=services.places).command
    if command is not None and command.name == "bind" and command.args:
        await binder.request_code(tx, msg, command.args[0], reply)
    elif command is not None and command.name == "code" and command.args:
        await binder.confirm_code(tx, msg, command.args[0], reply)
    elif BIND.match(msg.text):
        reply.say("wechat_bind_usage")      # 绑定 without a readable phone number
    else:
        reply.say("wechat_unbound")
