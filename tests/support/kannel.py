"""A real Kannel 1.4.5 stack on loopback for tests: bearerbox + fakesmsc + smsbox.

Usage from any pytest-asyncio test or fixture (see tests/gateways/test_kannel_real.py)::

    from tests.support.callbacks import CallbackServer
    from tests.support.kannel import running_kannel

    async with CallbackServer() as callbacks:               # or your own app's base URL
        get_url = get_url_template(callbacks.url("/kannel/mo"), "tok")   # gateways.kannel
        async with running_kannel(get_url) as kannel:       # skips, or fails in CI, without Kannel
            # MT: GET kannel.sendsms_url (kannel.username / kannel.password), then
            mts = await kannel.wait_mt(1)                   # MtMessage list, multi-part joined
            # MO: one fakesmsc line; returns once bearerbox has it, or when your `wait()` returns
            await kannel.send_mo("13900001111", "求购 葡萄苗")
            request = await callbacks.wait_for("/kannel/mo")   # a gateways.WebhookRequest

`KannelStack` is the plain async context manager (`start()`/`stop()` also work); `running_kannel`
adds `require_kannel()`, logs on stderr at teardown (pytest shows them for failed tests only)
and removes the temp dir. Ports are picked free at start (never the fixed 13000…), so runs
coexist. Logs go to `kannel.workdir`; `kannel.logs()` gives their tails. Stopping sends SIGTERM
to bearerbox (smsbox and fakesmsc follow it), then SIGKILL to anything left after 15 s.
Without the binaries tests skip, unless $FARMER_MAILBOX_REQUIRE_KANNEL is set (CI): then they fail.
Facts behind every step: shared/notes/protocols.md §1 "Running it in a test".
The pieces live in modules with one job each, re-exported here so older imports keep working:
`tests.support.kannel_install` (are the binaries here), `tests.support.kannel_fakesmsc` (fakesmsc's
MT and MO line formats), `tests.support.kannel_conf` (the config and free ports), and
`tests.support.callbacks` (`CallbackServer`, `webhook_request`). This module runs the processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support import kannel_install
from tests.support.callbacks import CallbackServer, webhook_request
from tests.support.kannel_conf import CONFIG, _accepts, _free_ports
from tests.support.kannel_fakesmsc import MtMessage, _mo_line, _Reassembler, kannel_decode
from tests.support.kannel_install import REQUIRE_ENV, kannel_missing, require_kannel

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0

__all__ = [
    "REQUIRE_ENV",
    "CallbackServer",
    "KannelStack",
    "MtMessage",
    "kannel_decode",
    "kannel_missing",
    "require_kannel",
    "running_kannel",
    "webhook_request",
]


class KannelStack:
    """bearerbox + fakesmsc (interactive) + smsbox on free loopback ports; an async context manager."""

    def __init__(
        self,
        *,
        get_url: str,
        username: str = "tester",
        password: str = "foobar",
        max_messages: int = 10,
        global_sender: str = "10690000",
        http_request_retry: int = 0,
        workdir: Path | None = None,
    ) -> None:
        self.get_url = get_url
        self.username = username
        self.password = password
        self.max_messages = max_messages
        self.global_sender = global_sender
        self.http_request_retry = http_request_retry
        self.admin_password = "bar"
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kannel-"))
        self._own_workdir = workdir is None
        self.admin_port = self.smsbox_port = self.smsc_port = self.sendsms_port = 0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._mt: queue.Queue[MtMessage] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._mo_lock = asyncio.Lock()

    # --- addresses ---

    @property
    def sendsms_url(self) -> str:
        """Where smsbox takes sendsms GETs."""
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def status_url(self) -> str:
        """bearerbox's status page (admin password included)."""
        return f"http://127.0.0.1:{self.admin_port}/status.txt?password={self.admin_password}"

    def config_text(self) -> str:
        """The kannel.conf this stack runs with."""
        return CONFIG.format(
            admin=self.admin_port,
            admin_password=self.admin_password,
            smsbox=self.smsbox_port,
            smsc=self.smsc_port,
            sendsms=self.sendsms_port,
            global_sender=self.global_sender,
            http_request_retry=self.http_request_retry,
            username=self.username,
            password=self.password,
            max_messages=self.max_messages,
            get_url=self.get_url.replace('"', "%22"),
        )

    # --- lifecycle ---

    async def __aenter__(self) -> KannelStack:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            sys.stderr.write(self.logs())
        await asyncio.to_thread(self.stop)

    async def start(self) -> None:
        """Write the config and start the three processes in order, each behind a readiness poll."""
        self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port = _free_ports(4)
        conf = self.workdir / "kannel.conf"
        conf.write_text(self.config_text())
        try:
            self._spawn("bearerbox", [str(kannel_install.BEARERBOX), "-v", "1", str(conf)])
            await self._poll(
                "bearerbox ports", lambda: _accepts(self.admin_port) and _accepts(self.smsc_port)
            )
            self._start_fakesmsc()
            await self._poll_status(f":{self.smsc_port} (online")
            self._spawn("smsbox", [str(kannel_install.SMSBOX), "-v", "1", str(conf)])
            await self._poll("sendsms port", lambda: _accepts(self.sendsms_port))
            await self._poll_status("smsbox:")
        except BaseException:
            sys.stderr.write(self.logs())
            await asyncio.to_thread(self.stop)
            raise

    def _spawn(self, name: str, argv: list[str]) -> None:
        with (self.workdir / f"{name}.log").open("wb") as log:
            self._procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def _start_fakesmsc(self) -> None:
        # Interactive (no <msg>), -i 0 or stdin lines are paced at 1 s; no -v or MT lines are hidden.
        argv = [str(kannel_install.FAKESMSC), "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0"]
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._procs["fakesmsc"] = proc
        self._reader = threading.Thread(target=self._read_fakesmsc, args=(proc,), daemon=True)
        self._reader.start()

    def _read_fakesmsc(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        joiner = _Reassembler()
        with (self.workdir / "fakesmsc.log").open("wb") as log:
            for raw in proc.stderr:
                log.write(raw)
                log.flush()
                message = joiner.feed(raw.decode("utf-8", "surrogateescape").rstrip("\n"))
                if message is not None:
                    self._mt.put(message)

    async def _poll(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not await asyncio.to_thread(ready):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kannel not ready after {READY_TIMEOUT:g}s: {what}")
            await asyncio.sleep(0.05)

    async def _poll_status(self, needle: str) -> None:
        await self._poll(f"status.txt shows {needle!r}", lambda: needle in self.status())

    def status(self) -> str:
        """bearerbox's status.txt, or '' when it does not answer."""
        try:
            return httpx.get(self.status_url, timeout=1.0).text
        except httpx.HTTPError:
            return ""

    def _check_alive(self) -> None:
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with status {proc.returncode}")

    def stop(self) -> None:
        """SIGTERM bearerbox (smsbox and fakesmsc follow), SIGKILL leftovers after 15 s."""
        bearerbox = self._procs.get("bearerbox")
        if bearerbox and bearerbox.poll() is None:
            bearerbox.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self._procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self._reader:
            self._reader.join(timeout=5)
        for proc in self._procs.values():
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        self._procs.clear()

    def cleanup(self) -> None:
        """Remove the temp dir this stack created (logs included)."""
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self, lines: int = 60) -> str:
        """The last `lines` of each process log, for failure reports."""
        out = [f"--- Kannel logs in {self.workdir} ---\n"]
        for path in sorted(self.workdir.glob("*.log")):
            tail = path.read_bytes().decode("utf-8", "replace").splitlines()[-lines:]
            out.append(f"--- {path.name} ---\n" + "\n".join(tail) + "\n")
        return "".join(out)

    # --- traffic ---

    def _write(self, data: bytes) -> None:
        proc = self._procs["fakesmsc"]
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()

    def poke(self) -> None:
        """Write an empty line: fakesmsc reads its socket (MTs) at once and sends nothing."""
        self._write(b"\n")

    async def send_mo(
        self,
        sender: str,
        text: str,
        *,
        receiver: str = "",
        wait: Callable[[], Awaitable[Any]] | None = None,
        timeout: float = 5.0,
    ) -> None:
        """Send one MO as a phone would (UCS-2), one line at a time.

        Returns once `wait()` returns, or, without `wait`, once bearerbox counts the message
        received (its get-url call follows within milliseconds).
        """
        line = _mo_line(sender, receiver or self.global_sender, text)
        async with self._mo_lock:
            before = self._mo_count()
            self._write(line)
            waiting = wait() if wait is not None else self._poll_mo(before)
            await asyncio.wait_for(waiting, timeout)

    def _mo_count(self) -> int:
        match = re.search(r"SMS: received (\d+)", self.status())
        return int(match.group(1)) if match else 0

    async def _poll_mo(self, before: int) -> None:
        while await asyncio.to_thread(self._mo_count) <= before:
            await asyncio.sleep(0.01)

    async def wait_mt(self, count: int = 1, *, timeout: float = 5.0) -> list[MtMessage]:
        """Collect `count` complete MTs (parts joined), poking fakesmsc so it reads at once."""
        messages: list[MtMessage] = []
        deadline = time.monotonic() + timeout
        while len(messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {len(messages)} of {count} MTs in {timeout:g}s\n{self.logs()}")
            self.poke()
            await asyncio.sleep(0.02)
            while not self._mt.empty():
                messages.append(self._mt.get_nowait())
        return messages


@contextlib.asynccontextmanager
async def running_kannel(get_url: str, **options: Any) -> AsyncIterator[KannelStack]:
    """A KannelStack for a pytest fixture: skip/fail via require_kannel(), start, yield, stop.

    At teardown the process logs go to stderr, which pytest shows only for a failed test,
    and the temp dir is removed. `options` are KannelStack's keyword arguments.
    """
    require_kannel()
    stack = KannelStack(get_url=get_url, **options)
    async with stack:
        try:
            yield stack
        finally:
            sys.stderr.write(stack.logs())
    stack.cleanup()
