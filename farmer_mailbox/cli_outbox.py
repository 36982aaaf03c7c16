"""Operator commands for the outbox: `outbox totals` (messages and SMS segments per day and purpose)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from farmer_mailbox.clock import SystemClock
from farmer_mailbox.config import Config
from farmer_mailbox.store import open_store
from farmer_mailbox.store.sql_outbox import SegmentTotal

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
HEADER = ("day", "channel", "purpose", "messages", "segments", "yuan")


def totals_since(now: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The start of the local day `days - 1` days before `now`'s (days=1: today only)."""
    local = now.astimezone(zone) - timedelta(days=days - 1)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def totals_table(totals: Sequence[SegmentTotal], price: float) -> list[tuple[str, ...]]:
    """Rows to print: one per day, channel and purpose, then a total line; cost on SMS segments."""
    rows: list[tuple[str, ...]] = [
        (t.day, t.channel, t.purpose, str(t.messages), str(t.segments), f"{t.segments * price:.2f}")
        for t in totals]
    segments = sum(t.segments for t in totals)
    rows.append(("total", "", "", str(sum(t.messages for t in totals)), str(segments), f"{segments * price:.2f}"))
    return rows


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in (HEADER, *rows)) for i in range(len(HEADER))]
    for row in (HEADER, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


async def cmd_outbox_totals(args: argparse.Namespace) -> int:
    """Print sent messages and billed SMS segments per local day, channel and purpose."""
    config: Config = args.config_obj
    zone = ZoneInfo(config.service.timezone)
    now = SystemClock().now()
    store = await open_store(config.service.database, must_exist=True)
    try:
        await store.migrate()
        totals = await store.segment_totals(totals_since(now, args.days, zone), now, zone)
    finally:
        await store.close()
    price = config.sms.price_per_segment
    if args.json:
        for t in totals:
            print(json.dumps(t._asdict() | {"yuan": round(t.segments * price, 2)}, ensure_ascii=False))
        return 0
    print(f"sent messages, {config.service.timezone} days; WeChat messages bill no SMS segments")
    _print_table(totals_table(totals, price))
    return 0


def _days(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 366:
        raise argparse.ArgumentTypeError("days must be 1 to 366")
    return value


def add_outbox_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `outbox totals`."""
    outbox = sub.add_parser("outbox", help="the durable outbox").add_subparsers(
        dest="outbox_command", metavar="COMMAND", required=True)
    totals = outbox.add_parser("totals", help="sent messages and SMS segments per day and purpose")
    totals.add_argument("--days", type=_days, default=7, help="local days back, today included (default 7)")
    totals.add_argument("--json", action="store_true", help="one JSON object per line")
    totals.set_defaults(handler="outbox_totals")


OUTBOX_COMMANDS: dict[str, Handler] = {"outbox_totals": cmd_outbox_totals}
