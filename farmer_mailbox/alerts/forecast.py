"""Next-day forecasts: where a town is, an Open-Meteo-style client, and the one-segment text.

Coordinates come from `data/weather/centroids.csv` (Vonng/adcode 2016, CC BY 4.0): towns of the
shipped counties, every county, city and province elsewhere; a region without its own point uses
its nearest ancestor's. They are GCJ-02, a few hundred metres off WGS84: nothing at the scale of
a forecast grid. Weather codes are WMO 4677 as Open-Meteo reports them, in Chinese from
`data/weather/wmo_codes.csv`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Protocol

import httpx

from farmer_mailbox import wording
from farmer_mailbox.models import CODE_DIGITS, Level

DAILY = "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max"


class ForecastError(Exception):
    """The forecast could not be had (network, HTTP status, or a body we cannot read)."""


@dataclass(frozen=True, slots=True)
class Point:
    """A place's centroid, latitude and longitude in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DayForecast:
    """One day of a daily forecast; any value may be missing."""

    day: date
    weather_code: int | None
    t_max: float | None
    t_min: float | None
    pop: int | None


def _data(name: str) -> list[dict[str, str]]:
    text = (resources.files("farmer_mailbox") / "data" / "weather" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@cache
def centroids() -> dict[str, Point]:
    """Every packaged centroid by 12-digit code."""
    return {r["code"]: Point(float(r["lat"]), float(r["lon"])) for r in _data("centroids.csv")}


@cache
def weather_words() -> dict[int, str]:
    """WMO weather code to Chinese words (晴, 多云, 小雨 ...)."""
    return {int(r["code"]): r["zh"] for r in _data("wmo_codes.csv")}


def point_of(code12: str, points: Mapping[str, Point] | None = None) -> Point | None:
    """The centroid of a region, else of its town, county, city or province."""
    points = centroids() if points is None else points
    for level in (Level.VILLAGE, Level.TOWN, Level.COUNTY, Level.CITY, Level.PROVINCE):
        found = points.get(code12[: CODE_DIGITS[level]].ljust(12, "0"))
        if found is not None:
            return found
    return None


class ForecastClient(Protocol):
    """Anything that gives daily forecasts for a point."""

    async def daily(self, point: Point, days: int = 2) -> list[DayForecast]: ...


class OpenMeteoClient:
    """GET {base}/v1/forecast?latitude=..&longitude=..&daily=..&timezone=Asia/Shanghai&forecast_days=2."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, timezone: str = "Asia/Shanghai") -> None:
        self.client, self.base_url, self.timezone = client, base_url.rstrip("/"), timezone

    async def daily(self, point: Point, days: int = 2) -> list[DayForecast]:
        """The next `days` days (today first) at a point."""
        params: dict[str, str | int | float] = {
            "latitude": round(point.lat, 4), "longitude": round(point.lon, 4), "daily": DAILY,
            "timezone": self.timezone, "forecast_days": days,
        }
        try:
            response = await self.client.get(f"{self.base_url}/v1/forecast", params=params)
        except httpx.HTTPError as exc:
            raise ForecastError(f"forecast request failed: {exc!r}") from exc
        if response.status_code != 200:
            raise ForecastError(f"forecast HTTP {response.status_code}: {response.text[:200]}")
        try:
            return parse_daily(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise ForecastError(f"unreadable forecast: {exc}") from exc


def parse_daily(body: Mapping[str, Any]) -> list[DayForecast]:
    """Read Open-Meteo's `daily` arrays (time and the four variables) into days."""
    daily = body["daily"]
    times: Sequence[str] = daily["time"]

    def column(name: str) -> Sequence[Any]:
        values = daily.get(name)
        return values if isinstance(values, list) and len(values) == len(times) else [None] * len(times)

    codes, highs, lows, pops = (column(n) for n in DAILY.split(","))
    return [
        DayForecast(date.fromisoformat(t), _int(c), _num(h), _num(lo), _int(p))
        for t, c, h, lo, p in zip(times, codes, highs, lows, pops, strict=True)
    ]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return round(number) if number is not None else None


def forecast_params(place: str, day: DayForecast) -> dict[str, str] | None:
    """Parameters of the 'forecast' template, or None when the day lacks weather or temperatures."""
    words = weather_words().get(day.weather_code) if day.weather_code is not None else None
    if words is None or day.t_min is None or day.t_max is None:
        return None
    low, high = round(day.t_min), round(day.t_max)
    rain = wording.ALERT_WORDS["rain"].format(pop=day.pop) if day.pop is not None else ""
    return {"place": place, "weather": words, "temp": f"{low}~{high}", "rain": rain}
