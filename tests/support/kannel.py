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
`CallbackServer` and `webhook_request` now live in `tests.support.callbacks`; this module
re-exports them so older imports keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import httpx
import pytest

from tests.support.callbacks import CallbackServer, webhook_request

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
REQUIRE_ENV = "FARMER_MAILBOX_REQUIRE_KANNEL"
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0

_MT_LINE = re.compile(r"Got message \d+: <(\S+) (\S+) (.*)>$")
_UDH_PART = re.compile(r"^udh (\S+) data (\S*)$")

__all__ = [
    "CallbackServer",
    "KannelStack",
    "MtMessage",
    "kannel_missing",
    "require_kannel",
    "running_kannel",
    "webhook_request",
]


def kannel_missing() -> str:
    """Why the Kannel binaries cannot be used here, or '' when they can."""
    absent = [str(path) for path in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(path, os.X_OK)]
    return f"Kannel not installed ({', '.join(absent)}); run scripts/install-kannel" if absent else ""


def require_kannel() -> None:
    """Skip the calling test when Kannel is missing, or fail it when $FARMER_MAILBOX_REQUIRE_KANNEL is set."""
    reason = kannel_missing()
    if reason and os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason}, and {REQUIRE_ENV} is set", pytrace=False)
    if reason:
        pytest.skip(reason)


def kannel_decode(value: str) -> bytes:
    """Undo Kannel's url-encoding (space written as '+')."""
    return unquote_to_bytes(value.replace("+", "%20"))


@dataclass(frozen=True, slots=True)
class MtMessage:
    """One MT as fakesmsc printed it, multi-part messages joined. `kind`: text, data or ucs-2."""

    sender: str
    receiver: str
    kind: str
    body: bytes
    parts: int = 1
    udh: tuple[bytes, ...] = ()

    @property
    def text(self) -> str:
        """The decoded text; joined UDH parts print as `data`, read as UCS-2 (our gateway's coding)."""
        if self.kind == "text":
            return self.body.decode("utf-8", "replace")
        if self.kind == "ucs-2" or self.parts > 1:
            return self.body.decode("utf-16-be")
        return self.body.decode("latin-1")


@dataclass
class _Reassembler:
    """Joins UDH parts (8- or 16-bit reference) into MtMessages."""

    pending: dict[tuple[str, str, int, int], dict[int, tuple[bytes, bytes]]] = field(default_factory=dict)

    def feed(self, line: str) -> MtMessage | None:
        match = _MT_LINE.search(line)
        if not match:
            return None
        sender, receiver, rest = match.groups()
        part = _UDH_PART.match(rest)
        if part is None:
            kind, _, data = rest.partition(" ")
            body = data.encode("utf-8", "surrogateescape") if kind == "text" else kannel_decode(data)
            return MtMessage(sender, receiver, kind, body)
        return self._part(sender, receiver, kannel_decode(part.group(1)), kannel_decode(part.group(2)))

    def _part(self, sender: str, receiver: str, udh: bytes, body: bytes) -> MtMessage | None:
        if len(udh) >= 6 and udh[1] == 0x00:  # IEI 00: 8-bit reference
            ref, total, seq = udh[3], udh[4], udh[5]
        elif len(udh) >= 7 and udh[1] == 0x08:  # IEI 08: 16-bit reference
            ref, total, seq = udh[3] << 8 | udh[4], udh[5], udh[6]
        else:
            return MtMessage(sender, receiver, "data", body, 1, (udh,))
        key = (sender, receiver, ref, total)
        parts = self.pending.setdefault(key, {})
        parts[seq] = (udh, body)
        if len(parts) < total:
            return None
        del self.pending[key]
        ordered = [parts[index] for index in sorted(parts)]
        joined = b"".join(chunk for _, chunk in ordered)
        return MtMessage(sender, receiver, "data", joined, total, tuple(u for u, _ in ordered))


def _mo_line(sender: str, receiver: str, text: str) -> bytes:
    """One fakesmsc stdin line: `ucs2` (url-encoded UTF-16BE, exact) when it fits 255 bytes, else `text`.

    fakesmsc reads stdin in 255-byte chunks and a longer line does not arrive whole; raw UTF-8
    (`text`, 3 bytes per CJK character) fits a full 70-character SMS but cannot hold a newline.
    """
    line = f"{sender} {receiver} ucs2 {quote(text.encode('utf-16-be'), safe='')}\n".encode("ascii")
    if len(line) <= 255:
        return line
    line = f"{sender} {receiver} text {text}\n".encode()
    if len(line) > 255 or "\n" in text:
        raise ValueError(f"MO too long for one fakesmsc line ({len(line)} bytes): {text!r}")
    return line


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


CONFIG = """\
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = {admin_password}
admin-allow-ip = "127.0.0.1"
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
dlr-storage = internal
log-level = 0

group = smsc
smsc = fake
smsc-id = FAKE
our-host = 127.0.0.1
port = {smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
global-sender = {global_sender}
mo-recode = true
http-request-retry = {http_request_retry}
http-queue-delay = 1

group = sendsms-user
username = {username}
password = {password}
user-allow-ip = "127.0.0.1"
max-messages = {max_messages}
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{get_url}"
"""


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
            self._spawn("bearerbox", [str(BEARERBOX), "-v", "1", str(conf)])
            await self._poll(
                "bearerbox ports", lambda: _accepts(self.admin_port) and _accepts(self.smsc_port)
            )
            self._start_fakesmsc()
            await self._poll_status(f":{self.smsc_port} (online")
            self._spawn("smsbox", [str(SMSBOX), "-v", "1", str(conf)])
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
        argv = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0"]
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
