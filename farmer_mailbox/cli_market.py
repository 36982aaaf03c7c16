"""Posting commands for liaisons: postings list / approve / hide (each action on the message record).

Approving matches the posting against every open posting, so the command loads the book from
the database first; the running service picks the change up within one housekeeping round.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from farmer_mailbox import cli_args
from farmer_mailbox.cli_users import _actor
from farmer_mailbox.config import Config
from farmer_mailbox.gateway_setup import GatewayRouter
from farmer_mailbox.market import staff
from farmer_mailbox.market.core import Market
from farmer_mailbox.market.staff import posting_json
from farmer_mailbox.outbox import Outbox
from farmer_mailbox.replay import replay
from farmer_mailbox.scoping import Actor
from farmer_mailbox.services import open_services

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


async def _with_market(args: argparse.Namespace, body: Callable[[Market, Actor], Awaitable[int]],
                       load_book: bool = False) -> int:
    config: Config = args.config_obj
    services = await open_services(config)
    try:
        outbox = Outbox(services.store, GatewayRouter({}, {}), config, services.clock)
        market = Market(services, outbox)
        if load_book:
            await market.book.rebuild(services.store)
        return await body(market, await _actor(services, args.by))
    finally:
        await services.close()


async def cmd_postings_list(args: argparse.Namespace) -> int:
    """List postings (default: those waiting for approval) within the actor's area."""
    async def body(market: Market, actor: Actor) -> int:
        status = None if args.status == "all" else args.status
        for row in await staff.list_postings(market, actor, status, limit=args.limit):
            print(json.dumps(posting_json(row), ensure_ascii=False))
        return 0

    return await _with_market(args, body)


async def cmd_postings_approve(args: argparse.Namespace) -> int:
    """Approve a held posting: it opens and is matched at once."""
    async def body(market: Market, actor: Actor) -> int:
        row = await staff.approve(market, actor, args.id)
        print(f"posting {row.id} approved and open until {row.expires_at.isoformat()}")
        return 0

    return await _with_market(args, body, load_book=True)


async def cmd_postings_hide(args: argparse.Namespace) -> int:
    """Hide a posting; the poster is told."""
    async def body(market: Market, actor: Actor) -> int:
        row = await staff.hide(market, actor, args.id, args.reason or "")
        print(f"posting {row.id} hidden")
        return 0

    return await _with_market(args, body)


class ReplayInputError(Exception):
    """The replay's input, output or scratch file cannot be used (the message names it)."""


def _replay_lines(name: str) -> list[str]:
    """The lines of the JSONL input (a file, or - for stdin): UTF-8, a BOM dropped."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise ReplayInputError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReplayInputError(f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                               "JSON Lines files are UTF-8") from None
    return text.splitlines(keepends=True)


def _replay_output(args: argparse.Namespace) -> IO[str]:
    """Where the results go, opened before the replay runs so a bad path fails at once."""
    if args.scratch is not None and args.scratch.exists():
        raise ReplayInputError(f"--scratch {args.scratch} exists: replay needs a scratch database of its own")
    if not args.output:
        return sys.stdout
    try:
        return open(args.output, "w", encoding="utf-8")
    except OSError as exc:
        raise ReplayInputError(f"cannot write {args.output}: {exc.strerror or exc}") from None


async def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a JSONL file of messages through the whole pipeline on a scratch database."""
    try:
        lines = _replay_lines(args.file)
        out = _replay_output(args)
    except ReplayInputError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        results = await replay(args.config_obj, tqdm(lines, desc="replaying", unit="msg",
                                                     disable=not sys.stderr.isatty()), args.scratch)
        for obj in results:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


MARKET_COMMANDS: dict[str, Handler] = {
    "postings.list": cmd_postings_list, "postings.approve": cmd_postings_approve, "postings.hide": cmd_postings_hide,
    "replay": cmd_replay,
}


def add_market_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the posting subcommands."""
    postings = sub.add_parser("postings", help="supply and demand postings: moderation").add_subparsers(
        dest="postings_command", metavar="ACTION", required=True)
    by_help = "act as this staff user (their scope applies); default: the operator"
    lst = postings.add_parser("list", help="postings within your area (default: waiting for approval)")
    lst.add_argument("--status", default="pending",
                     choices=["pending", "open", "cancelled", "expired", "hidden", "all"])
    lst.add_argument("--limit", type=cli_args.count, default=100, help="at most this many (default 100)")
    lst.add_argument("--by", metavar="PHONE", help=by_help)
    lst.set_defaults(handler="postings.list")
    approve = postings.add_parser("approve", help="approve a held posting (it is matched at once)")
    approve.add_argument("id", type=cli_args.record_id, help="posting number")
    approve.add_argument("--by", metavar="PHONE", help=by_help)
    approve.set_defaults(handler="postings.approve")
    hide = postings.add_parser("hide", help="take a posting down; the poster is told")
    hide.add_argument("id", type=cli_args.record_id, help="posting number")
    hide.add_argument("--reason", help="why (kept on the message record)")
    hide.add_argument("--by", metavar="PHONE", help=by_help)
    hide.set_defaults(handler="postings.hide")
    rep = sub.add_parser("replay", help="replay a JSONL file of messages on a scratch database",
                         description="Each input line {\"id\", \"from\", \"text\", \"village\"} goes through the "
                         "whole pipeline (memory gateway); each output line {\"id\", \"intent\", \"postings\", "
                         "\"matched_with\", \"replies\"}, then {\"summary\": ...}. See farmer_mailbox/replay.py.")
    rep.add_argument("file", help="JSONL input file, or - for stdin")
    rep.add_argument("--output", metavar="PATH", help="write the results here (default: stdout)")
    rep.add_argument("--scratch", metavar="PATH", type=Path,
                     help="scratch database to create (default: a temporary file, removed afterwards)")
    rep.set_defaults(handler="replay")
