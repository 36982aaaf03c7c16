"""The pest calendar: rules in data that draft alerts for officers when a season comes round.

Each rule (data/pests/calendar.csv) names a pest, the crops it attacks, the provinces (or city
and county prefixes) where its season applies, the season's start and end (month-day), the
stage and the advice. Every day the job drafts, for each county with an officer, the rules whose
season starts within `lead_days` or is under way: once per rule, county and season (the draft's
`source` is unique). Drafts go nowhere until an officer approves or discards them.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from importlib import resources

from farmer_mailbox import wording
from farmer_mailbox.models import Role
from farmer_mailbox.validation import ValidationError

from .model import AlertDraft, Kind, Status
from .service import AlertService

log = logging.getLogger(__name__)
SEND_HOUR = time(7, 0)            # a suggested send time farmers read before going to the fields
DEADLINE_DAYS = 10                # "请于{when}前": the suggested deadline after the season's start
PEST_ROLES = (Role.FARMER, Role.LIAISON)


@dataclass(frozen=True, slots=True)
class PestRule:
    """One row of the pest calendar."""

    id: str
    pest: str
    kind: str
    crops: tuple[str, ...]
    label: str
    regions: tuple[str, ...]
    start: tuple[int, int]
    end: tuple[int, int]
    stage: str
    advice: str

    def applies_to(self, county_code: str) -> bool:
        """True when the county lies in one of the rule's provinces or region prefixes."""
        return any(county_code.startswith(prefix) for prefix in self.regions)

    def season(self, today: date, lead_days: int) -> tuple[date, date] | None:
        """The season (start, end) that `today` falls in or is `lead_days` before, else None."""
        for year in (today.year - 1, today.year, today.year + 1):
            start = date(year, *self.start)
            end = date(year + (self.end < self.start), *self.end)
            if start - timedelta(days=lead_days) <= today <= end:
                return start, end
        return None


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(x) for x in text.split("-"))
    date(2023, month, day)  # a common year: a season cannot start or end on 02-29
    return month, day


def parse_rules(text: str) -> list[PestRule]:
    """Read the calendar CSV; a bad row raises ValueError naming it."""
    rules = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
        try:
            rules.append(PestRule(
                id=row["id"], pest=row["pest"], kind=row["kind"],
                crops=tuple(c for c in row["crops"].split(";") if c), label=row["label"],
                regions=tuple(r for r in row["regions"].split(";") if r), start=_month_day(row["start"]),
                end=_month_day(row["end"]), stage=row["stage"], advice=row["advice"],
            ))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"pest calendar line {line}: {exc}") from None
    return rules


def packaged_rules() -> list[PestRule]:
    """The calendar shipped in farmer_mailbox/data/pests/calendar.csv."""
    path = resources.files("farmer_mailbox") / "data" / "pests" / "calendar.csv"
    return parse_rules(path.read_text(encoding="utf-8"))


class PestCalendar:
    """Drafts pest alerts for officers from the rules."""

    def __init__(self, service: AlertService, rules: Sequence[PestRule], *, lead_days: int = 7) -> None:
        self.service, self.rules, self.lead_days = service, list(rules), lead_days
        self.store, self.clock = service.store, service.clock

    async def draft_due(self) -> list[int]:
        """The daily job: draft every rule in season for every county with an officer; return new ids."""
        today = self.clock.now().astimezone(self.service.zone).date()
        counties = await self.store.officer_counties()
        drafted = []
        for rule in self.rules:
            season = rule.season(today, self.lead_days)
            if season is None:
                continue
            for county in counties:
                if rule.applies_to(county):
                    alert_id = await self._draft(rule, county, season)
                    if alert_id is not None:
                        drafted.append(alert_id)
        return drafted

    async def _draft(self, rule: PestRule, county: str, season: tuple[date, date]) -> int | None:
        source = f"pest:{rule.id}:{county[:6]}:{season[0].year}"
        if await self.store.alert_by_source(source) is not None:
            return None
        start, end = season
        zone, now = self.service.zone, self.clock.now()
        deadline = min(start + timedelta(days=DEADLINE_DAYS), end)
        suggested = datetime.combine(max(start, now.astimezone(zone).date() + timedelta(days=1)), SEND_HOUR, zone)
        draft = AlertDraft(
            kind=Kind.PEST, template_key="pest_alert", regions=(county,), crops=rule.crops, roles=PEST_ROLES,
            params={"crop": rule.label, "pest": rule.pest, "stage": rule.stage,
                    "when": wording.ALERT_WORDS["date"].format(month=deadline.month, day=deadline.day),
                    "advice": rule.advice},
            send_at=suggested, expires_at=datetime.combine(end, time(21, 0), zone),
            note=f"pest calendar {rule.id}",
        )
        try:
            prepared = await self.service.prepare(draft, None)
        except ValidationError as exc:
            log.error("pest rule %s for county %s cannot be drafted: %s", rule.id, county, exc.message)
            return None
        new = replace(prepared.new, status=Status.DRAFT, source=source)
        async with self.store.transaction() as tx:
            if await tx.alert_by_source(source) is not None:
                return None
            return await self.service.insert(tx, new, None, event="alert_draft")
