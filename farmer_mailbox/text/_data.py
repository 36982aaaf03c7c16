"""Reading of the lexicon files shipped in `farmer_mailbox/text/data` (the package's only I/O)."""

from __future__ import annotations

import csv
import io
from importlib import resources


def read_text(name: str) -> str:
    """Return the text of a packaged data file."""
    return resources.files("farmer_mailbox.text").joinpath("data", name).read_text(encoding="utf-8")


def read_rows(name: str) -> list[dict[str, str]]:
    """Return the rows of a packaged CSV file as dicts keyed by its header."""
    return list(csv.DictReader(io.StringIO(read_text(name))))


def split_list(value: str, sep: str = "|") -> tuple[str, ...]:
    """Split a `|`-separated CSV cell into its non-empty items."""
    return tuple(item.strip() for item in value.split(sep) if item.strip())
