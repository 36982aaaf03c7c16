"""Which channel carries a message to a user, decided once, when it is enqueued.

- Replies and match notices to a user go by WeChat when the user is bound, still subscribed, and
  inside the customer-service window (their last WeChat interaction within `window_hours`), or when
  the WeChat gateway has a template message for that kind; otherwise by SMS to their phone.
- The direct answer to an inbound message stays on the channel it came from ("answer where asked").
- Urgent messages go by both: the SMS copy keeps the key, the WeChat copy gets `<key>:wechat`.
- Bulk (non-urgent) alerts stay SMS; codes that prove a phone (`bind_code`) always go by SMS.
- Messages without a user, and everything when no WeChat gateway is configured, are left alone.

A WeChat message that fails for good later (the window closed before it was sent, the user
unsubscribed) is sent again by SMS by the outbox (store.fallback_to_sms), urgent ones excepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from farmer_mailbox.store import Reads
from farmer_mailbox.store.sql_wechat import Contact
from gateways.wechat import WechatGateway

if TYPE_CHECKING:
    from farmer_mailbox.config import Config
    from farmer_mailbox.gateway_setup import GatewayRouter
    from farmer_mailbox.outbox import Message

WECHAT, SMS = "wechat", "sms"
PINNED = frozenset({"bind_code"})          # must reach the phone itself
ROUTED_PURPOSES = frozenset({"reply", "match"})


@dataclass(frozen=True, slots=True)
class ChannelPreference:
    """The routing rule and what it needs to know about the configured WeChat gateway."""

    wechat: bool = False
    window: timedelta = timedelta(hours=48)
    templates: frozenset[str] = frozenset()

    @classmethod
    def build(cls, config: Config, router: GatewayRouter) -> ChannelPreference:
        """Route to WeChat only when a WeChat gateway is configured; note its template kinds."""
        gateway = router.by_channel(WECHAT)
        if gateway is None:
            return cls()
        templates = frozenset(gateway.templates) if isinstance(gateway, WechatGateway) else frozenset()
        return cls(True, timedelta(hours=config.wechat.window_hours), templates)

    def reachable(self, contact: Contact, template_key: str, now: datetime) -> bool:
        """True when a WeChat message to this contact can be delivered now."""
        if not contact.openid or not contact.subscribed:
            return False
        in_window = contact.last_inbound_at is not None and contact.last_inbound_at > now - self.window
        return in_window or template_key in self.templates

    def _routed(self, msg: Message, answering: tuple[str, str] | None) -> bool:
        if msg.user_id is None or msg.template_key in PINNED:
            return False
        if answering is not None and (msg.channel, msg.address) == answering:
            return False
        return msg.urgent or msg.purpose in ROUTED_PURPOSES

    def _one(self, msg: Message, contact: Contact, now: datetime) -> list[Message]:
        reachable = self.reachable(contact, msg.template_key, now)
        by_sms = replace(msg, channel=SMS, address=contact.phone)
        if msg.urgent:
            twin = replace(msg, idem_key=f"{msg.idem_key}:wechat", channel=WECHAT, address=contact.openid or "")
            return [by_sms, twin] if reachable else [by_sms]
        if reachable:
            return [replace(msg, channel=WECHAT, address=contact.openid or "")]
        return [by_sms]

    async def route(self, reads: Reads, messages: Sequence[Message], now: datetime,
                    answering: tuple[str, str] | None = None) -> list[Message]:
        """Messages with channel and address set per user (urgent ones possibly doubled)."""
        if not self.wechat:
            return list(messages)
        user_ids = sorted({m.user_id for m in messages if m.user_id is not None and self._routed(m, answering)})
        contacts = await reads.wechat_contacts(user_ids)
        routed: list[Message] = []
        for msg in messages:
            contact = contacts.get(msg.user_id) if msg.user_id is not None else None
            if contact is None or not self._routed(msg, answering):
                routed.append(msg)
            else:
                routed.extend(self._one(msg, contact, now))
        return routed
