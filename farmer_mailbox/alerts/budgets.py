"""Each county bureau's monthly budget: what it has committed, whether an alert must wait for an
admin's confirmation, and making such a hold seen.

An alert is priced against the month of every county it reaches, each with its share (recipients
there × segments × price). Over budget, it waits for an admin; orange and red warnings too unless
`[alerts] urgent_over_budget = "send"`. A hold is logged as a WARNING naming the alert, and every
active admin gets the 'alert_held' SMS (urgent for orange and red, so it reaches them at night).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from farmer_mailbox import wording
from farmer_mailbox.clock import Clock
from farmer_mailbox.config import Config
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.store import Reads, Tx

from .costs import Budget, cost_of, month_bounds, month_label
from .model import NewAlert
from .texts import area_name

log = logging.getLogger(__name__)


def yuan_text(amount: float) -> str:
    """Yuan for a short message: 0.3, 12.5, 5000 (whole yuan, rounded up, from 100 on)."""
    return str(math.ceil(amount)) if amount >= 100 else f"{amount:.2f}".rstrip("0").rstrip(".")


class Budgets:
    """The budget rules of the configuration, read against the store."""

    def __init__(self, config: Config, tree: RegionTree, clock: Clock, zone: ZoneInfo) -> None:
        self.limit = config.alerts.monthly_budget_yuan
        self.urgent_waits = config.alerts.urgent_over_budget == "hold"
        self.tree, self.clock, self.zone = tree, clock, zone

    async def month(self, reads: Reads, county: str, send_at: datetime, cost: float) -> Budget:
        """The county bureau's month of `send_at`: budget, committed spending, and this alert's cost."""
        start, end = month_bounds(send_at, self.zone)
        spent = await reads.county_spent(county, start, end)
        return Budget(county, month_label(start), self.limit, round(spent, 2), cost)

    async def of(self, reads: Reads, charges: Mapping[str, int], send_at: datetime, segments: int,
                 price: float) -> tuple[Budget, ...]:
        """Each county's month with its share of an alert (its recipients there × segments × price)."""
        return tuple([await self.month(reads, county, send_at, cost_of(n, segments, price))
                      for county, n in charges.items()])

    async def over(self, tx: Tx, new: NewAlert) -> tuple[Budget, ...]:
        """The counties whose month `new` would take over budget, read inside the writing transaction."""
        found = await self.of(tx, new.charges, new.send_at, new.segments, new.price)
        return tuple(b for b in found if b.exceeds)

    def must_wait(self, urgent: bool) -> bool:
        """Whether an alert over budget waits for an admin: always, but for urgent ones with "send"."""
        return self.urgent_waits or not urgent

    async def announce_hold(self, tx: Tx, alert_id: int, new: NewAlert, over: Sequence[Budget]) -> int:
        """Make a hold seen: a WARNING in the log naming the alert, and an SMS to every active admin;
        return how many admins are told."""
        counties = ", ".join(f"{b.county_code[:6]} ({b.after_yuan:.2f} of {b.limit_yuan:.2f} yuan in {b.month})"
                             for b in over)
        log.warning("alert %d (%s %s, %d recipients, %.2f yuan) is held for an admin's confirmation: it would "
                    "exceed the monthly budget of %s; confirm with `farmer-mailbox alerts confirm %d`",
                    alert_id, new.kind.value, new.severity.value or "-", new.recipients, new.cost_yuan, counties,
                    alert_id)
        kind = wording.ALERT_WORDS[f"kind.{new.kind.value}"].format(colour=new.severity.zh)
        params = {"kind": kind, "id": str(alert_id), "area": area_name(self.tree, new.target.regions),
                  "cost": yuan_text(new.cost_yuan)}
        told = await tx.notify_admins(alert_id, "alert_held", params, new.urgent, self.clock.now(), new.expires_at)
        if not told:
            log.warning("alert %d is held but no active admin can be told by SMS", alert_id)
        return told
