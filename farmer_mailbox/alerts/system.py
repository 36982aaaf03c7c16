"""All of the alerts wired for a running service: service, fan-out, feeds, calendar, scheduler.

`AlertSystem.build(...)` reads [alerts] and [weather]; the Runtime starts it with the app (after
the outbox dispatcher) and stops it first. Without a running scheduler (CLI) nothing fires: the
CLI writes alerts, the serving process's jobs send them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from farmer_mailbox.config import Config, ConfigError
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.services import Services
from farmer_mailbox.wechat.preference import ChannelPreference

from .digest import ForecastService
from .fanout import Fanout
from .forecast import ForecastClient, OpenMeteoClient
from .intake import WarningIntake
from .model import Severity
from .pests import PestCalendar, packaged_rules
from .qweather import QWeatherSource
from .scheduler import AlertScheduler, daily_at, every
from .service import AlertService, Canonical
from .targeting import CropExpander
from .warnings import WarningSource, parse_areas


def alerts_signature(config: Config, router: GatewayRouter | None) -> str:
    """The signature billed on alerts: the first alerts-route gateway's, or [sms] signature without gateways."""
    if router is None:
        return config.sms.signature
    return router.gateway(router.route("alert")[0]).capabilities().signature


def warning_source(config: Config, client: httpx.AsyncClient, env: Mapping[str, str]) -> WarningSource | None:
    """The configured official warning feed, or None."""
    weather = config.weather
    if weather.warning_source == "none":
        return None
    if not weather.qweather_base_url:
        raise ConfigError("weather.qweather_base_url: required when warning_source is qweather (your API Host)")
    key = env.get(weather.qweather_key_env)
    if not key:
        raise ConfigError(f"weather.qweather_key_env: environment variable {weather.qweather_key_env} is not set")
    return QWeatherSource(client, weather.qweather_base_url, key, weather.qweather_api)


@dataclass
class AlertSystem:
    """The alerts parts of a running service."""

    service: AlertService
    fanout: Fanout
    forecasts: ForecastService
    intake: WarningIntake | None
    calendar: PestCalendar | None
    scheduler: AlertScheduler

    @classmethod
    def build(cls, services: Services, client: httpx.AsyncClient, *, router: GatewayRouter | None = None,
              wake: Callable[[], None] | None = None, env: Mapping[str, str] | None = None,
              expander: CropExpander | None = None, canonical: Canonical | None = None,
              source: WarningSource | None = None, forecast_client: ForecastClient | None = None) -> AlertSystem:
        """Wire everything from config; `source` and `forecast_client` replace the configured ones (tests)."""
        config = services.config
        env = os.environ if env is None else env
        service = AlertService(services.store, services.tree, config, services.clock,
                               signature=alerts_signature(config, router), expander=expander,
                               canonical=canonical or services.accounts.canonical_interests)
        fanout = Fanout(services.store, services.clock, chunk=config.alerts.fanout_chunk, wake=wake,
                        wechat=ChannelPreference.build(config, router) if router is not None else None)
        if forecast_client is None and config.weather.forecast_provider == "open-meteo":
            forecast_client = OpenMeteoClient(client, config.weather.forecast_base_url, config.service.timezone)
        forecasts = ForecastService(services.store, services.tree, forecast_client, services.clock, zone=service.zone,
                                    quiet=service.quiet, digest_time=config.weather.digest_time, wake=wake)
        source = source or warning_source(config, client, env)
        areas = parse_areas(config.weather.areas, services.tree)
        intake = WarningIntake(service, source, areas, min_colour=Severity(config.weather.min_colour),
                               lift_notice=config.weather.lift_notice) if source and areas else None
        calendar = PestCalendar(service, packaged_rules(), lead_days=config.alerts.pest_lead_days) \
            if config.alerts.pest_calendar else None
        scheduler = AlertScheduler(service.zone)
        scheduler.add("fanout", fanout.tick, every(config.alerts.due_check_seconds))
        if intake is not None:
            scheduler.add("warnings", intake.poll, every(config.weather.poll_seconds))
        if calendar is not None:
            scheduler.add("pest_calendar", calendar.draft_due, daily_at(config.alerts.pest_calendar_time, service.zone))
        if forecast_client is not None:
            scheduler.add("forecast_digest", forecasts.send_digest, daily_at(config.weather.digest_time, service.zone))
        return cls(service, fanout, forecasts, intake, calendar, scheduler)

    def start(self) -> None:
        """Start the jobs on the running loop; resume unfinished fan-outs at once."""
        self.scheduler.start()
        self.service.on_due = lambda: self.scheduler.kick("fanout")
        self.scheduler.kick("fanout")

    async def stop(self) -> None:
        """Stop the jobs, letting a running one finish."""
        self.service.on_due = lambda: None
        await self.scheduler.stop()
