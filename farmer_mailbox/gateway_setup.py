"""Gateways from config: build each one, route purposes to ordered fallbacks, check templates.

A message kind with no template on a configured template-only gateway is a start-up error,
not a 2 a.m. surprise.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping

import httpx

from farmer_mailbox import wording
from farmer_mailbox.config import Config, ConfigError, resolve_secrets
from farmer_mailbox.ratelimit import TokenBucket
from gateways import Gateway, GatewaySettings, load_gateway

CLAIM_WINDOW_SECONDS = 1.0
ROUTE_OF_PURPOSE = {"reply": "replies", "match": "matches", "alert": "alerts"}


def build_gateways(config: Config, client: httpx.AsyncClient,
                   env: Mapping[str, str] | None = None) -> dict[str, Gateway]:
    """Construct every configured gateway; a bad option raises ConfigError naming it."""
    env = os.environ if env is None else env
    built: dict[str, Gateway] = {}
    for name, raw in config.gateways.items():
        where = f"gateways.{name}"
        options = resolve_secrets(where, {k: v for k, v in raw.items() if k != "type"}, env)
        try:
            built[name] = load_gateway(GatewaySettings(name, str(raw["type"]), options), client)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return built


class GatewayRouter:
    """Which gateways carry a message, in fallback order, and how fast each may go."""

    def __init__(self, gateways: Mapping[str, Gateway], routes: Mapping[str, list[str]]) -> None:
        self.gateways = dict(gateways)
        self.routes = {key: list(names) for key, names in routes.items()}
        self._limits = {name: TokenBucket(gw.capabilities().rate_per_second) for name, gw in gateways.items()}

    @classmethod
    def from_config(cls, config: Config, gateways: Mapping[str, Gateway]) -> GatewayRouter:
        """Route with the [routes] section over the given gateways."""
        routes = {key: getattr(config.routes, key) for key in ROUTE_OF_PURPOSE.values()}
        for key, names in routes.items():
            for name in names:
                if name not in gateways:
                    raise ConfigError(f"routes.{key}: gateway {name!r} is not configured")
        return cls(gateways, routes)

    def route(self, purpose: str, channel: str = "sms") -> list[str]:
        """Gateway names for a message: the purpose's route for SMS, the channel's gateway else."""
        if channel != "sms":
            names = [n for n, gw in self.gateways.items() if gw.capabilities().channel == channel]
            if not names:
                raise LookupError(f"no gateway configured for channel {channel!r}")
            return names
        return self.routes[ROUTE_OF_PURPOSE[purpose]]

    def gateway(self, name: str) -> Gateway:
        """A gateway by configured name."""
        return self.gateways[name]

    def limiter(self, name: str) -> TokenBucket:
        """The rate limiter of a gateway."""
        return self._limits[name]

    def claim_size(self, batch_size: int, window: float = CLAIM_WINDOW_SECONDS) -> int:
        """Rows worth claiming at once: what the slowest rate-limited gateway sends in `window` s.

        Priority is applied when rows are claimed; a batch larger than a gateway can send soon
        would make a reply that arrives meanwhile wait behind the bulk rows already claimed.
        """
        rates = [bucket.rate for bucket in self._limits.values() if bucket.rate > 0]
        if not rates:
            return batch_size
        return max(1, min(batch_size, math.ceil(min(rates) * window)))

    def by_channel(self, channel: str) -> Gateway | None:
        """The first gateway of a channel (e.g. wechat), if any."""
        names = [n for n, gw in self.gateways.items() if gw.capabilities().channel == channel]
        return self.gateways[names[0]] if names else None


WECHAT_ONLY_PREFIX = "wechat_"   # wording: these kinds answer in WeChat and never go by SMS


def sms_kinds() -> list[str]:
    """The message kinds that can go by SMS: every template but the WeChat-only ones."""
    return sorted(key for key in wording.TEMPLATES if not key.startswith(WECHAT_ONLY_PREFIX))


def missing_templates(gateways: Mapping[str, Gateway], keys: Iterable[str]) -> dict[str, list[str]]:
    """For each template-only gateway, our message kinds it has no provider template for."""
    wanted = sorted(set(keys))
    missing: dict[str, list[str]] = {}
    for name, gw in gateways.items():
        templates = gw.capabilities().templates
        if templates is not None:
            absent = [k for k in wanted if k not in templates]
            if absent:
                missing[name] = absent
    return missing


def template_param_problems(gateways: Mapping[str, Gateway]) -> list[str]:
    """Provider templates mapped to a kind we do not have, or reading params that kind lacks."""
    problems = []
    for name, gw in gateways.items():
        for key, params in sorted(gw.capabilities().template_params.items()):
            where = f"gateways.{name}.templates.{key}"
            if key not in wording.TEMPLATES:
                problems.append(f"{where}: no message kind {key!r}")
                continue
            fields = wording.template_fields(key)
            unknown = [p for p in params if p not in fields]
            if unknown:
                has = ", ".join(sorted(fields)) or "none"
                problems.append(f"{where}: {key!r} has no param {', '.join(map(repr, unknown))} (it has: {has})")
    return problems


def check_templates(gateways: Mapping[str, Gateway]) -> None:
    """Refuse to start when a template-only gateway lacks a template for a kind that goes by SMS,
    or a provider template reads a param its message kind does not have."""
    missing = missing_templates(gateways, sms_kinds())
    problems = [f"gateways.{n}.templates lacks {', '.join(keys)} (every SMS message kind needs a provider "
                f"template id)" for n, keys in missing.items()]
    problems += template_param_problems(gateways)
    if problems:
        raise ConfigError("; ".join(problems))


async def check_gateways(config: Config) -> None:
    """Build every gateway and check templates and routes, without sending anything."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        gateways = build_gateways(config, client)
        GatewayRouter.from_config(config, gateways)
        check_templates(gateways)
