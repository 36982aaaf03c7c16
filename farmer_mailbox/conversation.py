"""What the mailbox says back: one inbound message in, domain writes and replies out.

`prepare` runs before the transaction (reading the text, and fetching a forecast for TQ, so no
network wait ever holds the writer); `handle` runs inside the inbox's transaction, so every write
and every reply it queues commits together. Opt-out always wins; unregistered and suspended
senders get a short reason and nothing is posted; opted-out senders get only the opt-out
confirmation; liaisons can register people by SMS.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from farmer_mailbox import text as understanding
from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.market import contact, mine, posting
from farmer_mailbox.models import Channel, Role, User, UserStatus
from farmer_mailbox.privacy import mask_phone
from farmer_mailbox.replies import Reply
from farmer_mailbox.store import NewRecord, Reads, Received, Tx
from farmer_mailbox.text.models import Command, ParseResult
from farmer_mailbox.validation import ValidationError, sms_address
from farmer_mailbox.wechat import messages as wechat

if TYPE_CHECKING:
    from farmer_mailbox.alerts.digest import ForecastService
    from farmer_mailbox.market.core import Market
    from farmer_mailbox.outbox import Outbox
    from farmer_mailbox.services import Services

log = logging.getLogger(__name__)
FORECAST_WAIT = 3.0   # seconds a TQ may wait for the forecast provider before answering "unavailable"
OPTIN_WORDS = {"开": True, "订": True, "开通": True, "订阅": True,
               "关": False, "退": False, "关闭": False, "取消": False}


@dataclass(frozen=True, slots=True)
class Prepared:
    """What was worked out before the transaction: the reading of the text, a forecast for TQ."""

    result: ParseResult
    forecast: tuple[str, dict[str, str]] | None = None


class Conversation:
    """Handles one received message at a time."""

    def __init__(self, services: Services, outbox: Outbox, market: Market | None = None,
                 forecasts: ForecastService | None = None) -> None:
        self.services = services
        self.outbox = outbox
        if market is None:
            from farmer_mailbox.market.core import Market
            market = Market(services, outbox)
        self.market = market
        self.forecasts = forecasts

    async def sender_user_id(self, tx: Reads, channel: str, sender: str) -> int | None:
        """The registered user behind a sender address, if any."""
        if channel == Channel.SMS.value:
            return await tx.user_id_by_phone(sms_address(sender))
        user = await self.sender(tx, channel, sender)
        return user.id if user else None

    async def sender(self, reads: Reads, channel: str, sender: str) -> User | None:
        """Find the user for an address on a channel (phone for SMS, bound openid for WeChat)."""
        if channel == Channel.SMS.value:
            return await reads.user_by_phone(sms_address(sender))   # +86 / 0086 / 86 forms too
        if channel == Channel.WECHAT.value:
            return await reads.user_by_openid(sender)
        return None

    async def senders(self, reads: Reads, msgs: Sequence[Received]) -> dict[tuple[str, str], User | None]:
        """The users behind several messages' (channel, sender), the SMS ones in one query."""
        phones = {msg.sender: sms_address(msg.sender) for msg in msgs if msg.channel == Channel.SMS.value}
        users = await reads.users_by_phones(list(phones.values()))
        return {(Channel.SMS.value, sender): users.get(phone) for sender, phone in phones.items()}

    async def prepare(self, msg: Received, known: Mapping[tuple[str, str], User | None] | None = None) -> Prepared:
        """Read the message and fetch what a reply needs from outside (outside any transaction).

        `known`: senders already looked up (`senders`), by (channel, sender); others are looked up here.
        """
        key = (msg.channel, msg.sender)
        user = known[key] if known is not None and key in known else await self.sender(
            self.services.store, msg.channel, msg.sender)
        result = understanding.parse(msg.text, places=self.services.places,
                                     home_code=user.village_code if user else None)
        command = result.command
        if command and command.name == "weather" and user and self.forecasts and not _optin(command):
            try:
                forecast = await asyncio.wait_for(self.forecasts.forecast_reply(user.village_code), FORECAST_WAIT)
            except Exception as exc:  # the provider is down or slow: say so, do not hold the inbox
                log.warning("forecast for %s failed: %s", user.village_code, exc)
                forecast = ("forecast_unavailable", {"place": self.forecasts.place(user.village_code)})
            return Prepared(result, forecast)
        return Prepared(result)

    async def handle(self, tx: Tx, msg: Received, prepared: Prepared | None = None) -> None:
        """Act on the message and queue the replies (in the caller's transaction)."""
        prepared = prepared or await self.prepare(msg)
        user = await self.sender(tx, msg.channel, msg.sender)
        reply = Reply.to_inbound(msg, user)
        # WeChat: events, binding, 解绑 (farmer_mailbox/wechat); a bound user's other messages go on.
        if not (msg.channel == Channel.WECHAT.value and await wechat.handle(tx, msg, user, reply, self.services)):
            await self._dispatch(tx, user, reply, prepared)
        if reply.messages:   # routed per user: WeChat or SMS (wechat/preference.py)
            await self.outbox.enqueue(tx, reply.messages, answering=(msg.channel, msg.sender))

    def settle(self, committed: bool) -> None:
        """The message's savepoint was released (or rolled back): publish (or drop) its index changes."""
        if committed:
            self.market.book.apply_staged()
        else:
            self.market.book.discard_staged()

    async def recover(self) -> None:
        """A batch transaction failed after messages were settled: rebuild the index from the database."""
        await self.market.book.rebuild(self.services.store)

    async def _dispatch(self, tx: Tx, user: User | None, reply: Reply, prepared: Prepared) -> None:
        result = prepared.result
        command = result.command
        if user is None:
            reply.say("unregistered")
            return
        if command is not None and command.name == "opt_out":
            await self._opt_out(tx, user, reply)
            return
        if user.status is UserStatus.SUSPENDED:
            reply.say("suspended")
            return
        if user.status is UserStatus.OPTED_OUT:
            reply.say("opted_out")  # the only message an opted-out user may receive
            return
        if command is not None:
            await self._command(tx, user, reply, command, prepared)
        elif result.intent in ("sell", "buy"):
            await posting.post(self.market, tx, reply, user, result)
        elif result.intent == "query":
            await posting.query(self.market, reply, user, result)
        else:
            reply.say("unknown")

    async def _command(self, tx: Tx, user: User, reply: Reply, command: Command, prepared: Prepared) -> None:
        name, args = command.name, command.args
        first = args[0] if args else None
        market = self.market
        if name == "help":
            reply.say("help")
        elif name == "register":
            await self._register(tx, user, args, reply)
        elif name == "mine":
            await mine.mine(market, tx, reply, user, first)
        elif name == "cancel":
            await mine.cancel(market, tx, reply, user, args)
        elif name == "renew":
            await mine.renew(market, tx, reply, user, first)
        elif name == "price":
            await mine.prices(market, tx, reply, user, args)
        elif name == "contact":
            await contact.contact(market, tx, reply, user, first)
        elif name in ("yes", "no"):
            await contact.answer(market, tx, reply, user, first, accepted=name == "yes")
        elif name == "reply":
            await contact.relay(market, tx, reply, user, first, args[1] if len(args) > 1 else "")
        elif name == "subscribe":
            await self._subscribe(tx, user, args, reply)
        elif name == "weather":
            await self._weather(tx, user, command, reply, prepared)
        elif name == "ask":
            await self._ask(tx, user, first or "", reply)
        elif name in ("bind", "code"):
            reply.say("bind_in_wechat")
        else:
            reply.say("unknown")

    async def _opt_out(self, tx: Tx, user: User, reply: Reply) -> None:
        now = self.services.clock.now()
        if user.status is not UserStatus.OPTED_OUT:
            await tx.update_user(user.id, now, status=UserStatus.OPTED_OUT)
            await tx.cancel_outbox(user_id=user.id, at=now, reason="recipient opted out")
            closed = await tx.close_user_postings(user.id, "cancelled", now)
            for posting_id in closed:
                self.market.book.stage_remove(posting_id)
            await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=now, user_id=user.id,
                                             text="opt_out", detail=json.dumps({"postings_closed": closed})))
        reply.say("opted_out")

    async def _subscribe(self, tx: Tx, user: User, args: tuple[str, ...], reply: Reply) -> None:
        """DY crops: follow products (their alerts and market notices reach the user)."""
        products = [p for p in self.services.accounts.canonical_interests(args) if p]
        if not products:
            reply.say("subscribe_usage")
            return
        await tx.add_interests(user.id, products)
        await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=self.services.clock.now(),
                                         user_id=user.id, text="interests_added", detail=json.dumps(
                                             products, ensure_ascii=False)))
        reply.say("interests_followed", {"products": "、".join(products)[:24]})

    async def _weather(self, tx: Tx, user: User, command: Command, reply: Reply, prepared: Prepared) -> None:
        """TQ: tomorrow's forecast; TQ 开 / TQ 关: the evening forecast on or off."""
        if self.forecasts is None:
            reply.say("forecast_unavailable", {"place": self.market.place(user.village_code)})
            return
        wanted = _optin(command)
        if wanted is not None:
            await tx.set_forecast_optin(user.id, wanted, self.services.clock.now())
            await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=self.services.clock.now(),
                                             user_id=user.id, text="forecast_optin" if wanted else "forecast_optout"))
            if wanted:
                reply.say("forecast_on", {"time": self.forecasts.digest_time,
                                          "place": self.forecasts.place(user.village_code)})
            else:
                reply.say("forecast_off")
            return
        key, params = prepared.forecast or ("forecast_unavailable", {"place": self.forecasts.place(user.village_code)})
        reply.say(key, params)

    async def _ask(self, tx: Tx, user: User, question: str, reply: Reply) -> None:
        """W question: put the question on record for the expert desk, and say so honestly."""
        entry = await tx.append_record(NewRecord(kind="event", channel=reply.channel, at=self.services.clock.now(),
                                                 user_id=user.id, text="question", detail=question))
        reply.say("ask_recorded", {"id": entry.id})

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


def _optin(command: Command) -> bool | None:
    """TQ 开 / TQ 关: whether the user turns the evening forecast on (True) or off (False)."""
    if command.name != "weather" or len(command.args) != 1:
        return None
    return OPTIN_WORDS.get(command.args[0])
