"""Periodic alert jobs on APScheduler 3.x's AsyncIOScheduler, on the service's own event loop.

APScheduler only says *when*; what to do is in our tables (due alerts, the warning ledger, the
drafts' unique sources), so a job that fires twice, late, or after a restart adds nothing. Each
job is single-flight: a firing (or a `kick`) while it runs asks for one more run after it, never
a second concurrent one. Runs are our own tasks (APScheduler's firing only starts them), so
`stop()` lets a run finish its transaction. Every job is a plain coroutine function, callable
directly in tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from farmer_mailbox.outbox_policy import parse_hhmm

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[object]]
STOP_TIMEOUT = 10.0


def every(seconds: float) -> BaseTrigger:
    """A trigger firing every `seconds`."""
    return IntervalTrigger(seconds=seconds)


def daily_at(hhmm: str, zone: ZoneInfo) -> BaseTrigger:
    """A trigger firing once a day at a local time."""
    at = parse_hhmm(hhmm)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)


@dataclass
class _State:
    job: Job
    task: asyncio.Task[None] | None = None
    again: bool = False
    runs: int = 0
    failures: int = 0
    last_error: str = ""
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class AlertScheduler:
    """Named single-flight jobs on triggers."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._jobs: dict[str, tuple[Job, BaseTrigger]] = {}
        self._state: dict[str, _State] = {}
        self._scheduler: AsyncIOScheduler | None = None

    def add(self, name: str, job: Job, trigger: BaseTrigger) -> None:
        """Register a job before start()."""
        self._jobs[name] = (job, trigger)
        self._state[name] = _State(job)

    @property
    def names(self) -> list[str]:
        """The registered jobs."""
        return list(self._jobs)

    def start(self) -> None:
        """Start firing on the running loop (call from inside it)."""
        self._scheduler = AsyncIOScheduler(timezone=self.zone)
        for name, (_, trigger) in self._jobs.items():
            self._scheduler.add_job(self._fire, trigger, args=[name], id=name, name=name, max_instances=1,
                                    coalesce=True, misfire_grace_time=None, replace_existing=True)
        self._scheduler.start()

    async def _fire(self, name: str) -> None:
        self.kick(name)

    def kick(self, name: str) -> None:
        """Run a job now (or once more right after the current run); never two at once."""
        state = self._state[name]
        if state.task is not None and not state.task.done():
            state.again = True
            return
        state.idle.clear()
        state.task = asyncio.get_running_loop().create_task(self._loop(name, state), name=f"alerts:{name}")

    async def _loop(self, name: str, state: _State) -> None:
        try:
            while True:
                state.again = False
                await self._run(name, state)
                if not state.again:
                    return
        finally:
            state.idle.set()

    async def _run(self, name: str, state: _State) -> None:
        state.runs += 1
        try:
            await state.job()
        except Exception as exc:  # a failing job must not stop the others or the next firing
            state.failures += 1
            state.last_error = f"{datetime.now(UTC).isoformat(timespec='seconds')} {exc!r}"
            log.exception("alerts job %s failed; it runs again at its next firing", name)

    async def wait_idle(self, name: str) -> None:
        """Wait until a kicked job has finished (tests, CLI)."""
        state = self._state[name]
        if state.task is not None:
            await state.idle.wait()

    async def run(self, name: str) -> None:
        """Run a job to completion now, single-flight with its scheduled runs."""
        self.kick(name)
        await self.wait_idle(name)

    def status(self) -> dict[str, dict[str, object]]:
        """Per job: runs, failures, last error, next firing (for health and the CLI)."""
        out: dict[str, dict[str, object]] = {}
        for name, state in self._state.items():
            job = self._scheduler.get_job(name) if self._scheduler and self._scheduler.running else None
            next_run = getattr(job, "next_run_time", None)
            out[name] = {"runs": state.runs, "failures": state.failures, "last_error": state.last_error,
                         "next_run": next_run.isoformat() if next_run else None}
        return out

    async def stop(self) -> None:
        """Stop firing and let running jobs finish (up to STOP_TIMEOUT seconds, then cancel)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        tasks = [s.task for s in self._state.values() if s.task is not None and not s.task.done()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
        for task in pending:
            log.error("alerts job %s did not finish within %.0f s; cancelled", task.get_name(), STOP_TIMEOUT)
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
