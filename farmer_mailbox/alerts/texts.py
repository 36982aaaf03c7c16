"""What an alert says: template checks, segment budgets, and the names it fills in itself.

An alert's text is a template key with parameters, identical for every recipient. At creation
the parameters are checked field by field (bounded fields have a limit, the free-text field gets
what the template's segment budget leaves) so a bureau never pays for a third segment by
accident, and the officer learns exactly how many characters to cut.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from farmer_mailbox import wording
from farmer_mailbox.accounts import fail
from farmer_mailbox.models import Level
from farmer_mailbox.regions import RegionTree, level_of
from gateways.common import billed_segments

ELLIPSIS = wording.ALERT_WORDS["cut"]
# Bounded fields per template (characters); the free-text field of each template is unbounded
# here and checked against the whole message's segment budget instead.
# Senders and events fit the longest county's 气象台 (18) and QWeather's longest event name (13).
FIELD_LIMITS: Mapping[str, Mapping[str, int]] = {
    "weather_warning": {"sender": 20, "event": 14, "colour": 2},
    "weather_update": {"sender": 20, "event": 14, "colour": 2},
    "weather_lifted": {"sender": 20, "time": 10, "event": 14, "colour": 2},
    "pest_alert": {"area": 14, "crop": 8, "pest": 10, "stage": 8, "when": 8, "office": 14},
    "market_notice": {"office": 14},
    "bureau_notice": {"office": 14},
}
FREE_FIELD: Mapping[str, str] = {
    "weather_warning": "detail", "weather_update": "detail", "pest_alert": "advice", "market_notice": "content",
    "bureau_notice": "content",
}
MAX_AREA_NAMES = 3


def template_fields(template_key: str) -> tuple[str, ...]:
    """The named fields a template needs, in order of appearance."""
    text = wording.TEMPLATES[template_key].text
    return tuple(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(text) if name))


def budget_chars(segments: int) -> int:
    """Characters (signature included) that fit in `segments` billed segments (mainland rule)."""
    return 70 if segments == 1 else 67 * segments


def clean_params(params: Mapping[str, object]) -> dict[str, str]:
    """Parameters as stripped strings, line breaks folded to spaces (one SMS, one paragraph)."""
    return {str(k): " ".join(str(v).split()) for k, v in params.items()}


def check_params(template_key: str, params: Mapping[str, str]) -> None:
    """Refuse missing or unknown fields and bounded fields over their limit."""
    fields = template_fields(template_key)
    missing = [f for f in fields if not params.get(f)]
    if missing:
        raise fail("alert.params", template=template_key, missing="、".join(missing))
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise fail("alert.params_unknown", template=template_key, unknown="、".join(unknown))
    for name, limit in FIELD_LIMITS.get(template_key, {}).items():
        if len(params[name]) > limit:
            raise fail("alert.field_too_long", field=name, limit=limit, length=len(params[name]))


def render_checked(template_key: str, params: Mapping[str, str], signature: str) -> tuple[str, int]:
    """Check an alert's parameters and return (text, billed segments) within the template's budget."""
    check_params(template_key, params)
    text = wording.render(template_key, params)
    segments = billed_segments(signature, text)
    budget = wording.TEMPLATES[template_key].segments
    if segments > budget:
        length = len(signature + text)
        over = length - budget_chars(budget)
        field = FREE_FIELD.get(template_key) or max(params, key=lambda k: len(params[k]))
        raise fail("alert.too_long", budget=budget, chars=budget_chars(budget), length=length, field=field,
                   over=over)
    return text, segments


def fit_free_text(template_key: str, params: Mapping[str, str], signature: str) -> dict[str, str]:
    """Cut the free-text field (ending it with …) so the message fits its budget; for feeds, not people."""
    fitted = dict(params)
    field = FREE_FIELD.get(template_key)
    if field is None:
        return fitted
    room = budget_chars(wording.TEMPLATES[template_key].segments)
    length = len(signature + wording.render(template_key, fitted))
    if length > room:
        keep = max(len(fitted[field]) - (length - room) - len(ELLIPSIS), 0)
        fitted[field] = re.sub(r"[,,;;、:: ]+$", "", fitted[field][:keep]) + ELLIPSIS
    return fitted


def area_name(tree: RegionTree, regions: tuple[str, ...]) -> str:
    """Name the target for the message: up to three places joined (龙山镇、横河镇), by their short
    names when the full ones are too long, else '龙山镇等4地'."""
    limit, join = FIELD_LIMITS["pest_alert"]["area"], wording.ALERT_WORDS["area_join"]
    for short in (False, True):
        names = [_name(tree, code, limit, short) for code in regions]
        if len(names) <= MAX_AREA_NAMES and len(join.join(names)) <= limit:
            return join.join(names)
    tail = wording.ALERT_WORDS["area_more"].format(n=len(regions))
    return _name(tree, regions[0], limit)[: limit - len(tail)] + tail


def _name(tree: RegionTree, code: str, limit: int, short: bool = False) -> str:
    """A region's name for a message (villages and long names by their short name), within `limit`."""
    region = tree.get(code)
    if region is None:
        return code
    name = region.short_name if short or region.level is Level.VILLAGE or len(region.name) > limit else region.name
    return name[:limit]


def office_name(tree: RegionTree, regions: tuple[str, ...]) -> str:
    """The bureau that speaks: the county's 农业农村局, or a city's, or the province's 农业农村厅."""
    common = _common_ancestor(regions)
    level = level_of(common)
    if level > Level.COUNTY:
        common, level = common[:6].ljust(12, "0"), Level.COUNTY
    office = wording.ALERT_WORDS["office_province" if level is Level.PROVINCE else "office"]
    region = tree.get(common)
    limit = FIELD_LIMITS["pest_alert"]["office"]
    names = [region.name, region.short_name] if region is not None and region.name not in _NO_NAME else []
    offices = [office.format(name=n) for n in names]
    return next((o for o in offices if len(o) <= limit), office.format(name=wording.ALERT_WORDS["office_local"]))


def _common_ancestor(regions: tuple[str, ...]) -> str:
    """The deepest region (12-digit code) containing every target, at province level at least."""
    for digits in (12, 9, 6, 4):
        prefixes = {code[:digits] for code in regions}
        if len(prefixes) == 1 and all(level_of(code) >= _LEVEL_AT[digits] for code in regions):
            return next(iter(prefixes)).ljust(12, "0")
    return regions[0][:2].ljust(12, "0")


_NO_NAME = ("市辖区", "县")   # placeholder divisions in the region table, not names to print
_LEVEL_AT = {12: Level.VILLAGE, 9: Level.TOWN, 6: Level.COUNTY, 4: Level.CITY}
