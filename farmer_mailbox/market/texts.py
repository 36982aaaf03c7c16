"""How postings and matches read in an SMS: pure formatting that keeps every reply in its budget.

A posting is described the way a farmer would say it ("求购葡萄苗2000株", "出售鸡蛋300斤1.5元/斤");
lists (matches, a user's postings) take as many items as fit the template's segment budget,
counting the billed signature, and say how many were left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from farmer_mailbox import wording
from gateways.common import billed_segments

SIDE_WORD = {"sell": "出售", "buy": "求购"}
ROLE_WORD = {"sell": "卖家", "buy": "买家"}
ITEM_SEP = ";"
ELLIPSIS = "…"


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
    """The price part: 3元/株, 2-3元/斤, 1.2元/斤以内 (a buyer's ceiling), 面议, or nothing."""
    if p.price_unit == "面议":
        return "价格面议"
    if p.price is None or not p.price_unit:
        return ""
    if p.price_max is not None and p.price_max != p.price:
        return f"{number(p.price)}-{number(p.price_max)}{p.price_unit}"
    if p.side == "buy" and p.price_max is not None:
        return f"{number(p.price)}{p.price_unit}以内"
    return f"{number(p.price)}{p.price_unit}"


def what(p: Described, with_side: bool = True) -> str:
    """A posting in a few words: 出售葡萄苗5000株3元/株."""
    quantity = f"{number(p.quantity)}{p.unit or ''}" if p.quantity is not None else ""
    head = SIDE_WORD.get(p.side, "") if with_side else ""
    return f"{head}{p.product}{quantity}{price_text(p)}"


def fits(key: str, params: Mapping[str, str], signature: str) -> bool:
    """True when the rendered template stays within its segment budget."""
    return billed_segments(signature, wording.render(key, params)) <= wording.TEMPLATES[key].segments


def fit_list(key: str, params: Mapping[str, str], field: str, items: Sequence[str], signature: str,
             more: str = "等{n}条") -> tuple[dict[str, str], int]:
    """Fill `field` with as many items as fit the budget; return the params and how many went in.

    Items left out are summed up as "等N条" (`more`) when that still fits.
    """
    chosen: list[str] = []
    final = dict(params, **{field: ""})
    for i, item in enumerate(items):
        joined = ITEM_SEP.join([*chosen, item])
        rest = len(items) - i - 1
        candidate = dict(params, **{field: joined + (more.format(n=rest) if rest else "")})
        if not fits(key, candidate, signature):
            break
        chosen.append(item)
        final = candidate
    if len(chosen) < len(items) and chosen:
        tail = more.format(n=len(items) - len(chosen))
        final = dict(params, **{field: ITEM_SEP.join(chosen) + tail})
    return final, len(chosen)


def clip(key: str, params: Mapping[str, str], field: str, signature: str) -> dict[str, str]:
    """Shorten one free-text field (a relayed message) with an ellipsis until the template fits."""
    out = dict(params)
    text = out[field]
    while text and not fits(key, out, signature):
        text = text[:-1]
        out[field] = text + ELLIPSIS
    return out
