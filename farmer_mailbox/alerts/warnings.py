"""Official weather warnings, independent of who publishes them; the small interface feeds implement.

A `WarningSource` answers one question: which warnings are in force for this area now. QWeather
(`qweather.py`) is the first; a CAP feed (12379, a provincial 气象台) can follow by implementing
`fetch`. Colours follow the CMA levels (蓝/黄/橙/红 = Ⅳ/Ⅲ/Ⅱ/Ⅰ), read from the feed's colour, else
the title's words, else its CAP severity (`data/weather/cma_warning_levels.csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Protocol

from farmer_mailbox import wording
from farmer_mailbox.config import ConfigError
from farmer_mailbox.regions import normalise_code

from .forecast import Point, point_of
from .model import Severity


class WarningStatus(StrEnum):
    """What a warning message does (CAP msgType): first issue, update of earlier ones, cancellation."""

    ALERT = "alert"
    UPDATE = "update"
    CANCEL = "cancel"


class WarningFeedError(Exception):
    """A feed that could not be read this time (network, HTTP status, API error code, bad body)."""


@dataclass(frozen=True, slots=True)
class WarningArea:
    """An area to watch: the region subtree that gets its warnings, and where to ask the feed."""

    region: str
    location: str = ""
    point: Point | None = None


@dataclass(frozen=True, slots=True)
class OfficialWarning:
    """One warning as published; `regions` are the watched regions it was found for."""

    id: str
    sender: str
    title: str
    text: str
    type_code: str
    type_name: str
    colour: Severity
    status: WarningStatus
    supersedes: tuple[str, ...] = ()
    issued: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    regions: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


class WarningSource(Protocol):
    """A feed of official warnings."""

    name: str

    async def fetch(self, area: WarningArea) -> list[OfficialWarning]:
        """Warnings in force (or just changed) for an area; raise WarningFeedError when unreadable."""
        ...


@cache
def _levels() -> list[dict[str, str]]:
    path = resources.files("farmer_mailbox") / "data" / "weather" / "cma_warning_levels.csv"
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def colour_of(colour: str = "", title: str = "", severity: str = "") -> Severity:
    """The CMA colour of a warning: its colour field, else 蓝色/黄色/橙色/红色 in the title, else the
    CAP severity (Minor/Moderate/Severe/Extreme); blue when nothing says (the lowest level)."""
    colour, severity = colour.strip().lower(), severity.strip().lower()
    for row in _levels():
        if colour and colour in (row["color_en"].lower(), row["qweather_color_code_v1"]):
            return Severity(row["qweather_color_code_v1"])
    for row in _levels():
        if row["color_zh"] in title:
            return Severity(row["qweather_color_code_v1"])
    for row in _levels():
        if severity and severity == row["qweather_severity_v7"].lower():
            return Severity(row["qweather_color_code_v1"])
    return Severity.BLUE


# Feeds write full-width ，：； where our templates (wording.py) write the half-width forms.
_PUNCTUATION = str.maketrans({"，": ",", "：": ":", "；": ";"})


def detail_of(text: str) -> str:
    """The substance of a warning's text: what follows "…发布…预警:" when it starts that way."""
    text = " ".join(text.split()).translate(_PUNCTUATION)
    head, sep, rest = text.partition(":")
    if sep and rest and ("预警" in head or "发布" in head) and len(head) <= 60:
        return rest.strip()
    return text


def sender_of(sender: str, title: str) -> str:
    """The issuing office: the feed's field, else the title up to 发布/更新/解除."""
    if sender.strip():
        return sender.strip()
    for verb in ("发布", "更新", "解除", "继续发布"):
        head, sep, _ = title.partition(verb)
        if sep and head:
            return head
    return wording.ALERT_WORDS["sender_fallback"]


def parse_areas(entries: Sequence[str], known: Container[str] | None = None) -> list[WarningArea]:
    """Read `[weather] areas`: "330282", "330282=101210404" (LocationID) or "330282=121.27,30.17" (lon,lat)."""
    areas = []
    for entry in entries:
        code_text, _, location = (part.strip() for part in entry.partition("="))
        try:
            code = normalise_code(code_text)[0]
        except ValueError:
            raise ConfigError(f"weather.areas: expected a region code like 330282, got {entry!r}") from None
        if known is not None and code not in known:
            raise ConfigError(f"weather.areas: region {code_text} is not in the region table")
        point = _point(location) if "," in location else point_of(code)
        areas.append(WarningArea(code, location, point))
    return areas


def _point(location: str) -> Point:
    try:
        lon, lat = (float(x) for x in location.split(","))
    except ValueError:
        raise ConfigError(f"weather.areas: expected lon,lat like 121.27,30.17, got {location!r}") from None
    return Point(lat, lon)
