"""What the mailbox says back: one inbound message in, domain writes and replies out.

Runs inside the inbox's transaction: every write and every reply it queues commits together.
Opt-out always wins; unregistered and suspended senders get a short reason and nothing is
posted; liaisons can register people by SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from farmer_mailbox import text as understanding
from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.models import Channel, Role, User, UserStatus
from farmer_mailbox.outbox import Message
from farmer_mailbox.privacy import mask_phone
from farmer_mailbox.store import NewRecord, Received, Tx
from farmer_mailbox.validation import ValidationError
from farmer_mailbox.wechat import messages as wechat

if TYPE_CHECKING:
    from farmer_mailbox.outbox import Outbox
    from farmer_mailbox.services import Services


class Reply:
    """Collects the replies of one inbound message, with stable idempotency keys."""

    def __init__(self, msg: Received, user: User | None, outbox: Outbox) -> None:
        self.msg, self.user, self.outbox = msg, user, outbox
        self.messages: list[Message] = []

    def say(self, template: str, params: Mapping[str, object] | None = None) -> None:
        """Queue a reply to the sender."""
        self.to(self.msg.sender, template, params, user_id=self.user.id if self.user else None,
                channel=self.msg.channel)

    def to(self, address: str, template: str, params: Mapping[str, object] | None = None, *,
           user_id: int | None = None, purpose: str = "reply", channel: str = "sms") -> None:
        """Queue a message to someone because of this inbound message."""
        key = f"in:{self.msg.id}:{len(self.messages)}"
        self.messages.append(Message(
            idem_key=key, purpose=purpose, address=address, template_key=template,
            params={k: str(v) for k, v in (params or {}).items()}, user_id=user_id, channel=channel,
        ))


class Conversation:
    """Handles one received message at a time."""

    def __init__(self, services: Services, outbox: Outbox) -> None:
        self.services = services
        self.outbox = outbox

    async def sender_user_id(self, tx: Tx, channel: str, sender: str) -> int | None:
        """The registered user behind a sender address, if any."""
        user = await self.sender(tx, channel, sender)
        return user.id if user else None

    async def sender(self, tx: Tx, channel: str, sender: str) -> User | None:
        """Find the user for an address on a channel (phone for SMS, bound openid for WeChat)."""
        if channel == Channel.SMS.value:
            return await tx.user_by_phone(sender[-11:] if sender.isdigit() else sender)
        if channel == Channel.WECHAT.value:
            return await tx.user_by_openid(sender)
        return None

    async def handle(self, tx: Tx, msg: Received) -> None:
        """Understand the message, act, and queue the replies."""
        user = await self.sender(tx, msg.channel, msg.sender)
        reply = Reply(msg, user, self.outbox)
        # WeChat: events, binding, 解绑 (farmer_mailbox/wechat); a bound user's other messages go on.
        if not (msg.channel == Channel.WECHAT.value and await wechat.handle(tx, msg, user, reply, self.services)):
            await self._dispatch(tx, msg, user, reply)
        if reply.messages:   # routed per user: WeChat or SMS (wechat/preference.py)
            await self.outbox.enqueue(tx, reply.messages, answering=(msg.channel, msg.sender))

    async def _dispatch(self, tx: Tx, msg: Received, user: User | None, reply: Reply) -> None:
        result = understanding.parse(msg.text, places=self.services.places,
                                     home_code=user.village_code if user else None)
        command = result.command.name if result.command else None
        if user is None:
            reply.say("unregistered")
            return
        if command == "opt_out":
            await self._opt_out(tx, user, reply)
            return
        if user.status is UserStatus.SUSPENDED:
            reply.say("suspended")
            return
        if command == "register":
            await self._register(tx, user, result.command.args if result.command else (), reply)
        elif command == "help":
            reply.say("help")
        else:
            reply.say("unknown")

    async def _opt_out(self, tx: Tx, user: User, reply: Reply) -> None:
        now = self.services.clock.now()
        if user.status is not UserStatus.OPTED_OUT:
            await tx.update_user(user.id, now, status=UserStatus.OPTED_OUT)
            await tx.cancel_outbox(user_id=user.id, at=now, reason="recipient opted out")
            await tx.append_record(NewRecord(kind="event", channel=reply.msg.channel, at=now,
                                             user_id=user.id, text="opt_out"))
        reply.say("opted_out")

    async def _register(self, tx: Tx, user: User, args: tuple[str, ...], reply: Reply) -> None:
        """注册 name id phone village, from a liaison's registered phone."""
        if user.role is not Role.LIAISON and not user.role.is_staff:
            reply.say("not_staff")
            return
        if len(args) != 4:
            reply.say("register_usage")
            return
        accounts = self.services.accounts
        actor = await accounts.actor_for(user, Channel.SMS)
        form = RegistrationForm(name=args[0], id_number=args[1], phone=args[2], village=args[3])
        try:
            prepared = await accounts.prepare(actor, form)
            new_id = await accounts.insert_prepared(tx, actor, prepared)
        except ValidationError as exc:
            reply.say("register_failed", {"reason": exc.message})
            return
        new = prepared.new
        village = self.services.tree.get(new.village_code)
        reply.say("register_ok", {"name": new.name, "phone_masked": mask_phone(new.phone),
                                  "village": village.short_name if village else new.village_code,
                                  "user_id": new_id})
        reply.to(new.phone, "welcome", {"name": new.name}, user_id=new_id)
