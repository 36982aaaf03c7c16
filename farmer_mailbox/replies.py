"""The messages one inbound message causes: replies to the sender and notices to others.

Each gets an idempotency key derived from the inbound message id and its position, so handling
the same inbound message again (after a crash) queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from farmer_mailbox.models import User
from farmer_mailbox.outbox import Message
from farmer_mailbox.store import Received


class Reply:
    """Collects the messages of one event (an inbound message, a liaison's action), with stable keys.

    `prefix` names the event ("in:42" for inbound message 42); the n-th message queued gets the
    key "{prefix}:{n}".
    """

    def __init__(self, prefix: str, sender: str, channel: str, user: User | None,
                 inbound_id: int | None = None) -> None:
        self.prefix, self.sender, self.channel, self.user = prefix, sender, channel, user
        self.inbound_id = inbound_id
        self.messages: list[Message] = []

    @classmethod
    def to_inbound(cls, msg: Received, user: User | None) -> Reply:
        """The replies to one received message."""
        return cls(f"in:{msg.id}", msg.sender, msg.channel, user, inbound_id=msg.id)

    def say(self, template: str, params: Mapping[str, object] | None = None) -> None:
        """Queue a reply to the sender."""
        self.to(self.sender, template, params, user_id=self.user.id if self.user else None,
                channel=self.channel)

    def to(self, address: str, template: str, params: Mapping[str, object] | None = None, *,
           user_id: int | None = None, purpose: str = "reply", channel: str = "sms") -> None:
        """Queue a message to someone because of this inbound message."""
        key = f"{self.prefix}:{len(self.messages)}"
        self.messages.append(Message(
            idem_key=key, purpose=purpose, address=address, template_key=template,
            params={k: str(v) for k, v in (params or {}).items()}, user_id=user_id, channel=channel,
        ))

    def templates(self) -> list[str]:
        """The template keys queued so far (for tests and the replay tool)."""
        return [m.template_key for m in self.messages]
