"""Argument types for the command line: numbers and addresses checked where argparse reads them.

A bad value stops with argparse's usage error (exit 2) naming the option, e.g.
`argument --limit: must be a whole number from 1 to 9223372036854775807, got '-1'`, instead of a
negative LIMIT that SQLite reads as "no limit", or an id too large to bind that ends in a traceback.
"""

from __future__ import annotations

import argparse
import math
import re

from farmer_mailbox.config_values import INT_LIMIT
from farmer_mailbox.config_values import host as host_problem

_WHOLE = re.compile(r"\s*\+?\d{1,19}\s*")   # int() of thousands of digits raises, and SQLite binds 19


def _whole(text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, or argparse's error."""
    value = int(text) if _WHOLE.fullmatch(text) else None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}, got {text!r}")
    return value


def record_id(text: str) -> int:
    """The number of a stored row (an alert, a posting): 1 up to what SQLite stores."""
    return _whole(text, 1, INT_LIMIT)


def count(text: str) -> int:
    """How many rows to show (--limit, -n): at least one, at most what SQLite binds."""
    return _whole(text, 1, INT_LIMIT)


def port(text: str) -> int:
    """A TCP port to listen on."""
    return _whole(text, 1, 65535)


def host(text: str) -> str:
    """A bind address, checked as `[service] host` is."""
    problem = host_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"expected {problem}, got {text!r}")
    return text


def interval(text: str) -> float:
    """Seconds between refreshes: more than 0 (a negative one is a busy loop), at most 3600 (inf never
    refreshes)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 3600:   # also false for nan
        raise argparse.ArgumentTypeError(f"must be seconds greater than 0 and at most 3600, got {text!r}")
    return value
