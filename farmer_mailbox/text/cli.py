"""`farmer-mailbox parse`: one message per line in, one JSON object per line out.

The lead wires `add_parse_arguments` and `run_parse` into the main CLI with the real place
resolver; `python -m farmer_mailbox.text` runs the same command standalone, without one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from farmer_mailbox.text.models import PlaceResolver
from farmer_mailbox.text.parser import parse


def add_parse_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the parse command to `parser`."""
    parser.add_argument("--text", help="parse this one message instead of reading lines from stdin")
    parser.add_argument(
        "--home-code", default=None, help="region code of the sender, to prefer nearby places"
    )


def run_parse(args: argparse.Namespace, places: PlaceResolver | None, stdin: TextIO, stdout: TextIO) -> int:
    """Parse each message and print its JSON on its own line; blank input lines are skipped."""
    messages: Iterable[str] = [args.text] if args.text is not None else _lines(stdin)
    for message in messages:
        result = parse(message, places=places, home_code=args.home_code)
        stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def _lines(stdin: TextIO) -> Iterable[str]:
    for line in stdin:
        message = line.rstrip("\r\n")
        if message.strip():
            yield message


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: `python -m farmer_mailbox.text [--text ...]` (no place resolver)."""
    parser = argparse.ArgumentParser(prog="python -m farmer_mailbox.text", description=__doc__)
    add_parse_arguments(parser)
    args = parser.parse_args(argv)
    return run_parse(args, None, sys.stdin, sys.stdout)
