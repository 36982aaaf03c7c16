"""How postings and matches read in an SMS: pure formatting that keeps every reply in its budget.

A posting is described the way a farmer would say it ("求购葡萄苗2000株", "出售鸡蛋300斤1.5元/斤");
lists (matches, a user's postings) take as many items as fit the template's segment budget,
counting the billed signature, and say how many were left out. The words come from
`wording.MARKET_FRAGMENTS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from farmer_mailbox import wording
from farmer_mailbox.wording import fragment
from gateways.common import billed_segments

NEGOTIABLE = "面议"   # the stored price unit of "价格面议" (a value, not text shown as such)


@dataclass(frozen=True, slots=True)
class Described:
    """What describing a posting needs (a stored posting or a parsed one)."""

    side: str
    product: str
    quantity: float | None = None
    unit: str | None = None
    price: float | None = None
    price_max: float | None = None
    price_unit: str | None = None


def number(value: float) -> str:
    """A quantity or price as farmers write it: 500, 1.5, 0.35 (no trailing zeros)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def price_text(p: Described) -> str:
    """The price part: 3元/株, 2-3元/斤, 1.2元/斤以内 (a buyer's maximum), 价格面议, or nothing."""
    if p.price_unit == NEGOTIABLE:
        return fragment("price.negotiable")
    if not p.price_unit or (p.price is None and p.price_max is None):
        return ""
    if p.price is not None and p.price_max is not None and p.price_max != p.price:
        return fragment("price.range", low=number(p.price), high=number(p.price_max)) + p.price_unit
    if p.side == "buy" and p.price_max is not None:
        return fragment("price.ceiling", price=number(p.price_max) + p.price_unit)
    return number(p.price if p.price is not None else p.price_max or 0) + p.price_unit


def side_word(side: str) -> str:
    """出售 or 求购."""
    return fragment(f"side.{side}") if side in ("sell", "buy") else ""


def what(p: Described, with_side: bool = True) -> str:
    """A posting in a few words: 出售葡萄苗5000株3元/株."""
    quantity = f"{number(p.quantity)}{p.unit or ''}" if p.quantity is not None else ""
    head = side_word(p.side) if with_side else ""
    return f"{head}{p.product}{quantity}{price_text(p)}"


def count_text(n: int, more: bool) -> str:
    """A match count as shown: 12, or 50+ when more exist than were stored."""
    return fragment("count.plus", n=n) if more else str(n)


def posting_refs(ids: Sequence[int], room: int = 24) -> str:
    """编号12、13 (or "3条信息" when the numbers would take more than `room` characters)."""
    text = fragment("ref.posting", id=fragment("ref.sep").join(str(i) for i in ids))
    return text if len(text) <= room else fragment("ref.postings", count=len(ids))


def fits(key: str, params: Mapping[str, str], signature: str) -> bool:
    """True when the rendered template stays within its segment budget."""
    return billed_segments(signature, wording.render(key, params)) <= wording.TEMPLATES[key].segments


def fit_list(key: str, params: Mapping[str, str], field: str, items: Sequence[str], signature: str,
             more: str | None = None, extra: int = 0) -> tuple[dict[str, str], int]:
    """Fill `field` with as many items as fit the budget; return the params and how many went in.

    Items left out, plus `extra` not given as items, are summed up as "等N条" (`more`, a format
    with {n}; "" for no summary) when that still fits. When not even the first item fits, it is
    clipped with an ellipsis.
    """
    tail = fragment("list.more", n="{n}") if more is None else more
    sep = fragment("list.sep")
    chosen: list[str] = []
    final = dict(params, **{field: ""})
    total = len(items) + extra
    for i, item in enumerate(items):
        joined = sep.join([*chosen, item])
        rest = total - i - 1
        candidate = dict(params, **{field: joined + (tail.format(n=rest) if rest else "")})
        if not fits(key, candidate, signature):
            break
        chosen.append(item)
        final = candidate
    if chosen and len(chosen) < len(items):
        final = dict(params, **{field: sep.join(chosen) + tail.format(n=total - len(chosen))})
    if not chosen and items:
        rest = total - 1
        final = clip(key, dict(params, **{field: items[0]}), field, signature,
                     suffix=tail.format(n=rest) if rest else "")
        return final, 1
    return final, len(chosen)


def clip(key: str, params: Mapping[str, str], field: str, signature: str, suffix: str = "") -> dict[str, str]:
    """Shorten one free-text field (a relayed message) with an ellipsis until the template fits."""
    out = dict(params)
    text = out[field]
    out[field] = text + suffix
    ellipsis = fragment("ellipsis")
    while text and not fits(key, out, signature):
        text = text[:-1]
        out[field] = text + ellipsis + suffix
    return out
