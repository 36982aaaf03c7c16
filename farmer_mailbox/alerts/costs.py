"""What an alert will cost before it goes: recipients, segments, yuan, by town, and the budget.

Every copy carries the same text, so segments are counted once on the rendered text with the
billed signature, and cost = recipients × segments × price per segment. Each county bureau has
a budget per local calendar month of the send time. An alert is charged to every county it
reaches, in proportion to its recipients there (`charges_of`: a red warning for two counties
counts against both months); what counts as spent is each county's share of what its alerts
committed (estimates until fan-out, enqueued copies after, accepted copies once done).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from farmer_mailbox.models import Level
from farmer_mailbox.regions import RegionTree


def cost_of(recipients: int, segments: int, price: float) -> float:
    """Yuan for `recipients` copies of `segments` segments each, rounded to the fen."""
    return round(recipients * segments * price, 2)


def month_bounds(when: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local calendar month `when` falls in, as [start, end) aware datetimes."""
    local = when.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start, end


def charges_of(town_counts: Mapping[str, int]) -> dict[str, int]:
    """Recipients per county (12-digit code) from recipients per town (9-digit code)."""
    counties: dict[str, int] = {}
    for town, n in town_counts.items():
        if n:
            county = town[:6].ljust(12, "0")
            counties[county] = counties.get(county, 0) + n
    return dict(sorted(counties.items()))


@dataclass(frozen=True, slots=True)
class TownLine:
    """Recipients and cost in one town (乡镇/街道)."""

    code: str
    name: str
    recipients: int
    cost_yuan: float


@dataclass(frozen=True, slots=True)
class Budget:
    """A county bureau's month: its budget, what is committed, and this alert's share of the cost."""

    county_code: str
    month: str
    limit_yuan: float
    spent_yuan: float
    alert_yuan: float

    @property
    def after_yuan(self) -> float:
        """Committed spending if this alert goes."""
        return round(self.spent_yuan + self.alert_yuan, 2)

    @property
    def exceeds(self) -> bool:
        """True when this alert would take the month over budget (0 means no budget)."""
        return self.limit_yuan > 0 and self.after_yuan > self.limit_yuan

    def as_dict(self) -> dict[str, object]:
        """For JSON and the CLI."""
        return {"county_code": self.county_code, "month": self.month, "limit_yuan": self.limit_yuan,
                "spent_yuan": self.spent_yuan, "this_alert_yuan": self.alert_yuan,
                "after_yuan": self.after_yuan, "exceeds": self.exceeds}


@dataclass(frozen=True, slots=True)
class Preview:
    """The audience and cost of an alert, before anything is written.

    `budgets` has one entry per county the alert reaches; `urgent_waits` says whether an orange or
    red warning over budget waits for an admin too (`[alerts] urgent_over_budget = "hold"`).
    """

    text: str
    signature: str
    segments: int
    price: float
    recipients: int
    by_town: tuple[TownLine, ...]
    budgets: tuple[Budget, ...]
    urgent: bool
    send_at: datetime
    expires_at: datetime
    waits_until: datetime | None
    urgent_waits: bool = True

    @property
    def cost_yuan(self) -> float:
        """Total estimated cost."""
        return cost_of(self.recipients, self.segments, self.price)

    @property
    def budget(self) -> Budget | None:
        """The paying bureau's month when the alert stays within one county, else None."""
        return self.budgets[0] if len(self.budgets) == 1 else None

    @property
    def over_budget(self) -> tuple[Budget, ...]:
        """The counties whose month this alert would take over budget."""
        return tuple(b for b in self.budgets if b.exceeds)

    @property
    def needs_confirmation(self) -> bool:
        """True when some county's budget would be exceeded: an admin must confirm (urgent alerts
        too, unless the bureau chose to let them go)."""
        return bool(self.over_budget) and (self.urgent_waits or not self.urgent)

    def as_dict(self) -> dict[str, object]:
        """For JSON and the CLI."""
        return {
            "text": self.text, "billed_text": self.signature + self.text, "segments": self.segments,
            "price_per_segment": self.price, "recipients": self.recipients,
            "total_segments": self.recipients * self.segments, "cost_yuan": self.cost_yuan,
            "urgent": self.urgent, "send_at": local_iso(self.send_at), "expires_at": local_iso(self.expires_at),
            "waits_until": local_iso(self.waits_until) if self.waits_until else None,
            "needs_confirmation": self.needs_confirmation,
            "budget": self.budget.as_dict() if self.budget else None,
            "budgets": [b.as_dict() for b in self.budgets],
            "by_town": [{"code": t.code, "name": t.name, "recipients": t.recipients, "cost_yuan": t.cost_yuan}
                        for t in self.by_town],
        }


def town_lines(tree: RegionTree, counts: Mapping[str, int], segments: int, price: float) -> tuple[TownLine, ...]:
    """Per-town lines (largest first) from 9-digit town codes and recipient counts."""
    lines = [TownLine(code, tree.display(code.ljust(12, "0"), Level.COUNTY) or code, n, cost_of(n, segments, price))
             for code, n in counts.items() if n]
    return tuple(sorted(lines, key=lambda t: (-t.recipients, t.code)))


def local_iso(when: datetime, zone: ZoneInfo | None = None) -> str:
    """An aware time shown in Asia/Shanghai (or `zone`) as ISO 8601 with its offset, to the minute."""
    return when.astimezone(zone or ZoneInfo("Asia/Shanghai")).isoformat(timespec="minutes")


def month_label(start: datetime) -> str:
    """'2026-07' for a month's local start."""
    return start.strftime("%Y-%m")

