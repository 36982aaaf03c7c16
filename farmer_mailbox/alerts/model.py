"""The alert domain: kinds, CMA colours, states, targets, and the frozen records passed around.

Pure data and the few rules that follow from it alone (which alerts are urgent, which states may
move to which), so every other alerts module can lean on them without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from farmer_mailbox import wording
from farmer_mailbox.models import Role


class Kind(StrEnum):
    """What an alert is about."""

    WEATHER = "weather"
    PEST = "pest"
    MARKET = "market"
    NOTICE = "notice"


class Severity(StrEnum):
    """The four CMA warning colours (蓝/黄/橙/红 = Ⅳ/Ⅲ/Ⅱ/Ⅰ); NONE for kinds without a colour."""

    NONE = ""
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def zh(self) -> str:
        """The colour as written in a warning: 蓝色, 黄色, 橙色, 红色."""
        return COLOUR_ZH[self]


COLOUR_ZH = {s: wording.ALERT_WORDS[f"colour.{s.value}"] if s.value else "" for s in Severity}
RANK = {Severity.NONE: 0, Severity.BLUE: 1, Severity.YELLOW: 2, Severity.ORANGE: 3, Severity.RED: 4}


class Status(StrEnum):
    """Where an alert is in its life (see migration 0004 for the moves)."""

    DRAFT = "draft"
    HELD = "held"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    DISCARDED = "discarded"
    EXPIRED = "expired"


OPEN = frozenset({Status.DRAFT, Status.HELD, Status.SCHEDULED, Status.SENDING})
CANCELLABLE = frozenset({Status.HELD, Status.SCHEDULED, Status.SENDING})
FINAL = frozenset({Status.SENT, Status.CANCELLED, Status.DISCARDED, Status.EXPIRED})
# Which template keys each kind may use (every outbound message is a template, DESIGN.md).
TEMPLATES_OF_KIND: Mapping[Kind, tuple[str, ...]] = {
    Kind.WEATHER: ("weather_warning", "weather_update", "weather_lifted"),
    Kind.PEST: ("pest_alert",),
    Kind.MARKET: ("market_notice",),
    Kind.NOTICE: ("bureau_notice",),
}
ALL_ROLES: tuple[Role, ...] = tuple(Role)


def is_urgent(kind: Kind, severity: Severity) -> bool:
    """Orange and red weather warnings go at once: through quiet hours, past per-user caps."""
    return kind is Kind.WEATHER and severity in (Severity.ORANGE, Severity.RED)


@dataclass(frozen=True, slots=True)
class Target:
    """Who receives an alert: region subtrees × roles, and optionally products followed.

    `regions` are 12-digit codes of disjoint subtrees; `crops` are the words asked for and
    `products` their expansion into canonical product names (empty: no product filter);
    `recipients_of` (a warning's lift notice) keeps only users sent a copy of one of those alerts.
    """

    regions: tuple[str, ...]
    roles: tuple[Role, ...] = ALL_ROLES
    crops: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    recipients_of: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What staff (or a warning feed, or the pest calendar) ask for, before any check.

    `regions` and `crops` are raw words or codes; `send_at` None means now; `expires_at` None
    means the configured default after the send time.
    """

    kind: Kind
    template_key: str
    params: Mapping[str, str]
    regions: tuple[str, ...]
    severity: Severity = Severity.NONE
    crops: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ALL_ROLES
    send_at: datetime | None = None
    expires_at: datetime | None = None
    note: str = ""
    recipients_of: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class NewAlert:
    """A checked alert ready to insert."""

    kind: Kind
    severity: Severity
    urgent: bool
    template_key: str
    params: Mapping[str, str]
    target: Target
    county_code: str | None
    status: Status
    send_at: datetime
    expires_at: datetime
    segments: int
    price: float
    recipients: int
    cost_yuan: float
    created_by: int | None
    created_at: datetime
    source: str | None = None
    supersedes: int | None = None
    confirmed_by: int | None = None
    note: str = ""
    charges: Mapping[str, int] = field(default_factory=dict)   # county code → recipients there


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert as stored."""

    id: int
    kind: Kind
    severity: Severity
    urgent: bool
    template_key: str
    params: Mapping[str, str]
    target: Target
    county_code: str | None
    status: Status
    send_at: datetime
    expires_at: datetime
    segments: int
    price: float
    recipients: int
    cost_yuan: float
    source: str | None
    supersedes: int | None
    fanout_cursor: int
    fanned_out_at: datetime | None
    created_by: int | None
    confirmed_by: int | None
    note: str
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class Progress:
    """Copies of one alert by outbox state; `waiting` ones may still go out."""

    counts: Mapping[str, int] = field(default_factory=dict)

    def get(self, status: str) -> int:
        """Copies in one outbox state."""
        return int(self.counts.get(status, 0))

    @property
    def total(self) -> int:
        """Every copy enqueued."""
        return sum(self.counts.values())

    @property
    def waiting(self) -> int:
        """Copies not yet handed to a gateway (queued, retrying, or in flight)."""
        return self.get("queued") + self.get("errored") + self.get("sending")

    @property
    def sent(self) -> int:
        """Copies a gateway accepted (delivered ones included)."""
        return self.get("sent") + self.get("delivered")

    @property
    def failed(self) -> int:
        """Copies that will never arrive: failed or expired."""
        return self.get("failed") + self.get("expired")

    def as_dict(self) -> dict[str, object]:
        """The counts with the summary figures, for JSON and the CLI."""
        return {"total": self.total, "waiting": self.waiting, "sent": self.sent,
                "delivered": self.get("delivered"), "failed": self.failed, "cancelled": self.get("cancelled"),
                "by_status": {k: int(v) for k, v in sorted(self.counts.items())}}
