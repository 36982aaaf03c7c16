"""The `farmer-mailbox` command: argument parsing and dispatch to the command modules.

Exit codes: 0 done, 1 refused input (validation, scope, a broken audit chain), 2 usage or
configuration error. Every subcommand has --help.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from farmer_mailbox import __version__
from farmer_mailbox.cli_alerts import ALERT_COMMANDS, add_alert_commands
from farmer_mailbox.cli_market import MARKET_COMMANDS, add_market_commands
from farmer_mailbox.cli_ops import OPS_COMMANDS, add_ops_commands
from farmer_mailbox.cli_outbox import OUTBOX_COMMANDS, add_outbox_commands
from farmer_mailbox.cli_users import USER_COMMANDS, add_user_commands
from farmer_mailbox.config import ConfigError, load_config
from farmer_mailbox.validation import ValidationError

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
HANDLERS: dict[str, Handler] = {**OPS_COMMANDS, **USER_COMMANDS, **ALERT_COMMANDS, **MARKET_COMMANDS,
                               **OUTBOX_COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    """Build the whole command tree."""
    parser = argparse.ArgumentParser(
        prog="farmer-mailbox",
        description="农民信箱: farmers buy and sell by text message.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", default=None,
        help="config file (default ./config.toml when present, else built-in defaults); "
        "any key can be overridden by FARMER_MAILBOX_<SECTION>_<KEY>",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_ops_commands(sub)
    add_user_commands(sub)
    add_alert_commands(sub)
    add_market_commands(sub)
    add_outbox_commands(sub)
    return parser


# Arguments that name files: a file name in another encoding is still that file's name.
PATH_ARGUMENTS = frozenset({"config", "csv", "files", "file", "output", "scratch"})
_SURROGATE = re.compile("[\ud800-\udfff]")


def undecodable_argument(args: argparse.Namespace) -> str | None:
    """Why a text argument cannot be used, when it holds bytes the terminal's encoding could not
    decode (Python keeps them as lone surrogates, which no database or UTF-8 output can hold)."""
    for dest, value in sorted(vars(args).items()):
        for item in value if isinstance(value, list) else [value]:
            if dest not in PATH_ARGUMENTS and isinstance(item, str) and _SURROGATE.search(item):
                try:
                    raw = item.encode(sys.getfilesystemencoding(), "surrogateescape")
                except UnicodeEncodeError:
                    raw = item.encode("utf-8", "surrogatepass")
                return (f"argument {dest}: not UTF-8 text ({raw[:40]!r}); is the terminal set to another "
                        "encoding, such as GBK? Set it to UTF-8 and type it again")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    problem = undecodable_argument(args)
    if problem:
        print(f"farmer-mailbox: error: {problem}", file=sys.stderr)
        return 2
    try:
        args.config_obj = load_config(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.config_obj.service.log_level, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.config_obj.service.log_level != "DEBUG":   # a line per job run every 15 s buries the SMS lines
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    handler = HANDLERS[args.handler]
    try:
        return asyncio.run(handler(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"refused: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
