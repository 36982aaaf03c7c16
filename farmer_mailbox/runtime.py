"""The running service: services plus gateways, outbox, inbox and background workers.

`Runtime.start()` builds everything from config (or takes gateways passed in by tests),
`Runtime.stop()` stops the workers and closes the HTTP client and the store. The web app and
the replay tool both run on a Runtime, so they share one inbound path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from farmer_mailbox.alerts.system import AlertSystem
from farmer_mailbox.clock import Clock
from farmer_mailbox.config import Config
from farmer_mailbox.conversation import Conversation
from farmer_mailbox.demo import load_demo
from farmer_mailbox.gateway_setup import GatewayRouter, build_gateways, check_templates
from farmer_mailbox.inbox import Inbox
from farmer_mailbox.market import upkeep
from farmer_mailbox.market.core import Market
from farmer_mailbox.outbox import Outbox
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.services import Services, open_services
from farmer_mailbox.text.segment import default_segmenter
from gateways import Gateway

log = logging.getLogger(__name__)
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class Runtime:
    """Everything a running service holds."""

    services: Services
    client: httpx.AsyncClient
    gateways: dict[str, Gateway]
    router: GatewayRouter
    outbox: Outbox
    inbox: Inbox
    alerts: AlertSystem
    market: Market
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, config: Config, *, gateways: Mapping[str, Gateway] | None = None,
                    clock: Clock | None = None, env: Mapping[str, str] | None = None,
                    workers: bool = True, tree: RegionTree | None = None) -> Runtime:
        """Open everything; with `workers`, start the dispatcher, the inbox processor and upkeep.

        `tree` lets callers that already hold this database's region tree (tests) skip loading it.
        """
        services = await open_services(config, clock, env, tree=tree)
        client = httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        try:
            built = dict(gateways) if gateways is not None else build_gateways(config, client, env)
            check_templates(built)
            router = GatewayRouter.from_config(config, built)
            if config.service.demo:
                await load_demo(services.accounts)
            outbox = Outbox(services.store, router, config, services.clock)
            alerts = AlertSystem.build(services, client, router=router, wake=outbox.wake, env=env)
            market = Market(services, outbox)
            await market.book.rebuild(services.store)
            if workers:   # load the word lists now, not while the first messages wait (about a second)
                await asyncio.to_thread(default_segmenter)
        except BaseException:
            await client.aclose()
            await services.close()
            raise
        conversation = Conversation(services, outbox, market=market, forecasts=alerts.forecasts)
        inbox = Inbox(services, outbox, conversation)
        runtime = cls(services, client, built, router, outbox, inbox, alerts, market)
        if workers:
            runtime.tasks.append(asyncio.create_task(outbox.run(runtime.stop_event), name="outbox"))
            runtime.tasks.append(asyncio.create_task(runtime.inbox.run(runtime.stop_event), name="inbox"))
            runtime.tasks.append(asyncio.create_task(
                upkeep.run(market, runtime.stop_event, config.matching.upkeep_seconds), name="market"))
            alerts.start()
        return runtime

    async def stop(self) -> None:
        """Stop workers, then close the HTTP client and the store."""
        await self.alerts.stop()
        self.stop_event.set()
        self.inbox.wake()
        self.outbox.wake()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:
                log.error("worker %s did not stop within 10 s; cancelled", task.get_name())
            except asyncio.CancelledError:
                pass
        await self.client.aclose()
        await self.services.close()
