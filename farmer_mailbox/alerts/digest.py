"""Forecasts for farmers: TQ on demand, the opt-in, and the evening digest job.

`forecast_reply(village)` gives the 'forecast' template and its parameters for a user's town
(one segment: "明天龙山镇:小雨,12~18℃,降水概率80%。"); the digest job fetches each town with
opted-in users once and enqueues that town's copies in one INSERT ... SELECT, keyed per user and
day so a second run adds nothing. Copies left unsent at the start of quiet hours expire: a
"明天" read the next morning would be wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time as monotonic
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from farmer_mailbox import wording
from farmer_mailbox.clock import Clock
from farmer_mailbox.outbox_policy import QuietHours
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.store import NewRecord, Store

from .forecast import DayForecast, ForecastClient, ForecastError, forecast_params, point_of

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600.0
CONCURRENCY = 8
PLACE_LIMIT = 12


class ForecastService:
    """Next-day forecasts by town, cached for an hour; `client` None means no provider configured."""

    def __init__(self, store: Store, tree: RegionTree, client: ForecastClient | None, clock: Clock, *,
                 zone: ZoneInfo, quiet: QuietHours, digest_time: str = "18:00",
                 wake: Callable[[], None] | None = None) -> None:
        self.store, self.tree, self.client, self.clock = store, tree, client, clock
        self.zone, self.quiet, self.digest_time = zone, quiet, digest_time
        self._cache: dict[tuple[str, date], tuple[float, DayForecast | None]] = {}
        self._wake = wake or (lambda: None)

    def place(self, village_code: str) -> str:
        """The town a forecast is named after (龙山镇), its short name when long."""
        town = self.tree.get(village_code[:9].ljust(12, "0")) or self.tree.get(village_code)
        if town is None:
            return wording.ALERT_WORDS["place_local"]
        return town.name if len(town.name) <= PLACE_LIMIT else town.short_name[:PLACE_LIMIT]

    def tomorrow(self) -> date:
        """Tomorrow in local time."""
        return (self.clock.now().astimezone(self.zone) + timedelta(days=1)).date()

    async def tomorrow_for(self, village_code: str) -> DayForecast | None:
        """Tomorrow's forecast for the town of a village (cached), or None when unavailable."""
        town, day = village_code[:9], self.tomorrow()
        cached = self._cache.get((town, day))
        if cached and monotonic.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        found = await self._fetch(village_code, day)
        self._cache[(town, day)] = (monotonic.monotonic(), found)
        if len(self._cache) > 4096:
            self._cache.pop(next(iter(self._cache)))
        return found

    async def _fetch(self, village_code: str, day: date) -> DayForecast | None:
        point = point_of(village_code)
        if self.client is None or point is None:
            return None
        try:
            days = await self.client.daily(point)
        except ForecastError as exc:
            log.warning("forecast for %s unavailable: %s", village_code, exc)
            return None
        return next((d for d in days if d.day == day), None)

    async def forecast_reply(self, village_code: str) -> tuple[str, dict[str, str]]:
        """TQ: the template key and parameters answering with tomorrow's forecast for the user's town."""
        place = self.place(village_code)
        day = await self.tomorrow_for(village_code)
        params = forecast_params(place, day) if day is not None else None
        if params is None:
            return "forecast_unavailable", {"place": place}
        return "forecast", params

    async def forecast_text(self, village_code: str) -> str:
        """TQ as text: "明天龙山镇:小雨,12~18℃,降水概率80%。" (or that it is unavailable)."""
        key, params = await self.forecast_reply(village_code)
        return wording.render(key, params)

    async def opted_in(self, user_id: int) -> bool:
        """True when the user gets the evening digest (for a toggling command)."""
        return await self.store.forecast_optin(user_id)

    async def set_optin(self, user_id: int, on: bool, channel: str = "sms") -> tuple[str, dict[str, str]]:
        """Turn the evening digest on or off for a user; return the reply's template key and parameters."""
        user = await self.store.get_user(user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        now = self.clock.now()
        async with self.store.transaction() as tx:
            changed = await tx.set_forecast_optin(user_id, on, now)
            await tx.append_record(NewRecord(
                kind="event", channel=channel, at=now, user_id=user_id,
                text="forecast_optin" if on else "forecast_optout", detail=json.dumps({"changed": changed})))
        if on:
            return "forecast_on", {"time": self.digest_time, "place": self.place(user.village_code)}
        return "forecast_off", {}

    async def send_digest(self) -> int:
        """The evening job: tomorrow's forecast to every opted-in user, one fetch per town; rows added."""
        now = self.clock.now()
        local = now.astimezone(self.zone)
        quiet_start = datetime.combine(local.date(), self.quiet.start, self.zone)
        if local >= quiet_start or self.quiet.contains(now):
            log.info("forecast digest skipped: quiet hours have begun")
            return 0
        day = self.tomorrow()
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(town: str) -> tuple[str, dict[str, str] | None]:
            async with limit:
                forecast = await self.tomorrow_for(town.ljust(12, "0"))
            place = self.place(town.ljust(12, "0"))
            return town, forecast_params(place, forecast) if forecast else None

        found = await asyncio.gather(*(one(t) for t in await self.store.forecast_towns()))
        added = 0
        async with self.store.transaction() as tx:
            for town, params in found:
                if params is not None:
                    added += await tx.enqueue_forecast(town, params, day.isoformat(), now, quiet_start, now)
            missing = [t for t, p in found if p is None]
            await tx.append_record(NewRecord(
                kind="event", channel="system", at=now, text="forecast_digest",
                detail=json.dumps({"day": day.isoformat(), "towns": len(found), "rows": added,
                                   "missing": missing[:20]}, ensure_ascii=False)))
        if added:
            self._wake()
        return added

