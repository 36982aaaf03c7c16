"""`farmer-mailbox replay`: run a file of messages through the whole pipeline on a scratch database.

A stable interface for operators who want to see what the current lexicon and rules would do
before deploying them.

Input, one JSON object per line, UTF-8 (a BOM is fine): {"id", "from", "text", "village"}; `id`,
`from` and `village` are strings or whole numbers (null is the same as absent), `text` a string.
`from` is optional: each distinct value becomes one registered farmer (a line without it gets a
farmer of its own); `village` is a village name or 12-digit code, default (absent or empty)
杨高村 (慈溪市龙山镇). A farmer has one village: it is set by the first line of that `from`; a
later line may repeat it (by name or code) but naming another village is an error. Lone
surrogates in strings ("\\ud83d", valid JSON but no storable text) become U+FFFD. Messages go
in file order through the same inbound path the gateways use (inbox, conversation, matching,
outbox), with the memory gateway and a clock that starts at 10:00 local time and moves one
second per message. Nothing goes over the network:
the scratch configuration has no forecast provider and no warning feed (TQ answers that no
forecast is available).

Output, one JSON object per input line: {"id", "intent", "postings" (as `farmer-mailbox parse`),
"matched_with" (ids of earlier lines whose postings this one matched, best first: every match
the engine found, not only those notified within the caps), "replies" (texts sent back to this
sender)}; a line that cannot be used gives {"id", "error"} and is not processed (not JSON, no
text, a field of another type, a village that is unknown, ambiguous or not a village, such as a
town, or another village for a known `from`). Then one line {"summary": {...}} with counts and
timings; `messages` counts the lines processed, `farmers` every farmer registered, anonymous
lines included.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from farmer_mailbox import text as understanding
from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.config import Config
from farmer_mailbox.matching import Match
from farmer_mailbox.models import Channel, User
from farmer_mailbox.runtime import Runtime
from farmer_mailbox.validation import ValidationError, id_check_digit
from gateways import GatewaySettings, InboundSms
from gateways.common import mend_surrogates
from gateways.memory import MemoryGateway

DEFAULT_VILLAGE = "330282123222"      # 杨高村, 龙山镇, 慈溪市
START = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)   # 10:00 in Asia/Shanghai, a Monday
GATEWAY = "replay"


@dataclass
class _State:
    """What the replay keeps between lines."""

    runtime: Runtime
    gateway: MemoryGateway
    clock: ManualClock
    people: dict[str, User] = field(default_factory=dict)
    line_of_posting: dict[int, str] = field(default_factory=dict)
    found: dict[int, list[Match]] = field(default_factory=dict)
    phones: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    sent_seen: int = 0
    farmers: int = 0


class LineError(Exception):
    """Why an input line cannot be replayed (its output is {"id", "error"})."""


_VILLAGE_PROBLEMS = {
    "village.unknown": "unknown village {name!r}",
    "village.ambiguous": "{name!r} names several places: add its town or county, or give its code",
    "village.not_village": "{name!r} is not a village (a town or county?): name a village",
}


def _phone(n: int) -> str:
    """A valid mainland mobile number in a block no real subscriber is given in the demo (1390001xxxx)."""
    return f"139{1000000 + n:08d}"


def _chinese_number(n: int) -> str:
    """1 → 甲一, 27 → 甲二七: a name without digits (names may not hold digits)."""
    return "甲" + "".join("〇一二三四五六七八九"[int(d)] for d in str(n))


def _id_number(n: int) -> str:
    first17 = f"330282{19600101 + (n % 28):08d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


async def _village(state: _State, name: str | None) -> str:
    """The village code a line names (the default village when it names none)."""
    if name is None:
        return DEFAULT_VILLAGE
    accounts = state.runtime.services.accounts
    try:
        return accounts.resolve_village(await accounts.actor_for(None, Channel.CLI), name)
    except ValidationError as exc:
        problem = _VILLAGE_PROBLEMS.get(exc.code, "village {name!r}: " + exc.message)
        raise LineError(problem.format(name=name)) from None


async def _farmer(state: _State, key: str | None, village: str | None) -> User:
    """The registered farmer behind a `from` value (registered on first sight, in the named village)."""
    known = state.people.get(key) if key is not None else None
    if known is not None:
        if village is not None and await _village(state, village) != known.village_code:
            raise LineError(f"from {key!r} is registered in {known.village_code}; a farmer has one village")
        return known
    code = await _village(state, village)
    accounts = state.runtime.services.accounts
    operator = await accounts.actor_for(None, Channel.CLI)
    n = next(state.phones)
    form = RegistrationForm(name="农户" + _chinese_number(n), id_number=_id_number(n), phone=_phone(n), village=code)
    user = await accounts.register(operator, form)
    state.farmers += 1
    if key is not None:
        state.people[key] = user
    return user


_JSON_KINDS = {bool: "true or false", float: "a fraction", list: "a list", dict: "an object"}


def _word(raw: dict[str, Any], key: str) -> str | None:
    """A field that names something (id, from, village): a string or a whole number, None when absent
    or null; LineError for anything else (a list, an object, true, 1.5), which would otherwise be
    read as its Python spelling or, when empty, as absent."""
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise LineError(f"{key} must be a string or a whole number, not {_JSON_KINDS.get(type(value), 'that')}")


async def _line(state: _State, raw: dict[str, Any], number: int) -> dict[str, Any]:
    try:
        line_id = _word(raw, "id") or str(number)
    except LineError as problem:
        return {"id": str(number), "error": str(problem)}
    text = raw.get("text")
    if not isinstance(text, str):
        return {"id": line_id, "error": "text missing"}
    try:
        sender, village = _word(raw, "from"), _word(raw, "village")
        user = await _farmer(state, sender, village if village and village.strip() else None)
    except LineError as problem:
        return {"id": line_id, "error": str(problem)}
    services = state.runtime.services
    state.clock.advance(timedelta(seconds=1))
    inbound = await state.runtime.inbox.receive(GATEWAY, "sms", [InboundSms(
        sender=user.phone, text=text, external_id=f"replay-{number}", received_at=state.clock.now())])
    await state.runtime.inbox.drain()
    await state.runtime.outbox.drain()
    replies = [s.text for s in state.gateway.sent[state.sent_seen:] if s.to == user.phone]
    state.sent_seen = len(state.gateway.sent)
    mine = [p for p in await services.store.postings_of(user.id, ("pending", "open", "cancelled", "expired",
                                                                   "hidden")) if p.inbound_id in inbound]
    matched: list[str] = []
    for posting in sorted(mine, key=lambda p: p.id):
        state.line_of_posting[posting.id] = line_id
        for match in state.found.get(posting.id, []):
            other = state.line_of_posting.get(match.posting.id)
            if other is not None and other not in matched:
                matched.append(other)
    result = understanding.parse(text, places=services.places, home_code=user.village_code).to_json()
    return {"id": line_id, "intent": result["intent"], "postings": result["postings"],
            "matched_with": matched, "replies": replies}


def read_lines(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Number the input lines and decode each (a string is the reason a line is unreadable).

    Lone surrogates ("\\ud83d": valid JSON, but no text SQLite can store) become U+FFFD, as the
    JSON webhooks mend them.
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = mend_surrogates(json.loads(line))
        except json.JSONDecodeError as exc:
            yield number, f"not JSON: {exc.msg}"
            continue
        except (ValueError, RecursionError) as exc:   # a number of 5000 digits, arrays nested 100000 deep
            yield number, f"not JSON we can read: {str(exc).split(';')[0]}"
            continue
        yield number, obj if isinstance(obj, dict) else "not a JSON object"


async def replay(config: Config, lines: Iterable[str], scratch: Path | None = None) -> Iterator[dict[str, Any]]:
    """Replay messages on a scratch database; return the output objects (summary last)."""
    with tempfile.TemporaryDirectory(prefix="farmer-mailbox-replay-") as tmp:
        database = scratch or Path(tmp) / "replay.sqlite3"
        if database.exists():
            raise ValueError(f"{database} exists: replay needs a scratch database of its own")
        service = replace(config.service, database=str(database), demo=True)
        routes = replace(config.routes, replies=[GATEWAY], matches=[GATEWAY], alerts=[GATEWAY])
        weather = replace(config.weather, forecast_provider="none", warning_source="none")   # never the network
        scratch_config = replace(config, service=service, routes=routes, weather=weather,
                                 gateways={GATEWAY: {"type": "memory"}})
        clock = ManualClock(START)
        gateway = MemoryGateway(GatewaySettings(GATEWAY, "memory", {}), httpx.AsyncClient())
        runtime = await Runtime.start(scratch_config, gateways={GATEWAY: gateway}, clock=clock, env={},
                                      workers=False)
        try:
            return iter(await _run(_State(runtime, gateway, clock), lines))
        finally:
            await runtime.stop()


async def _run(state: _State, lines: Iterable[str]) -> list[dict[str, Any]]:
    state.runtime.market.observer = lambda posting_id, matches: state.found.__setitem__(posting_id, matches)
    out: list[dict[str, Any]] = []
    intents: Counter[str] = Counter()
    started = time.perf_counter()
    for number, raw in read_lines(lines):
        if isinstance(raw, str):
            out.append({"id": str(number), "error": raw})
            continue
        result = await _line(state, raw, number)
        if "error" not in result:
            intents[result["intent"]] += 1
        out.append(result)
    seconds = time.perf_counter() - started
    handled = sum(intents.values())
    out.append({"summary": {
        "lines": len(out), "messages": handled, "errors": sum(1 for o in out if "error" in o),
        "intents": dict(intents), "postings": sum(len(o.get("postings", [])) for o in out),
        "lines_with_matches": sum(1 for o in out if o.get("matched_with")),
        "replies": sum(len(o.get("replies", [])) for o in out), "farmers": state.farmers,
        "seconds": round(seconds, 3), "messages_per_second": round(handled / seconds, 1) if seconds else None,
    }})
    return out
