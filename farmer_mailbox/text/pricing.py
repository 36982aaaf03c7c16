"""The price fields of a posting: value, range top, and the unit priced (元/斤, 元/株, 面议).

When a message gives a price without saying per what ("收包谷两吨 1.2元"), the reading a clerk
would make is used: grain, fruit and live pigs are priced per 斤 even when counted in 吨 or 头;
counted things (株, 台, 头 of piglets) per item; a sum in the thousands for a 吨 is per 吨.
"""

from __future__ import annotations

from farmer_mailbox.text.lexicon import Product
from farmer_mailbox.text.numbers import Price, Quantity, unit

NEGOTIABLE = "面议"
_PER_TON_FLOOR = 500.0
_PER_JIN_CEILING = 50.0


def price_fields(
    price: Price | None, quantity: Quantity | None, product: Product, pack: str | None = None
) -> tuple[float | None, float | None, str | None]:
    """(price, price_max, price_unit) for a posting; `pack` is the pack the goods come in."""
    if price is None:
        return None, None, None
    if price.negotiable or price.value is None:
        return None, None, NEGOTIABLE
    per = price.per or pack or _implied_unit(price.value, quantity, product)
    return price.value, price.high, f"元/{per}" if per else "元"


def _implied_unit(value: float, quantity: Quantity | None, product: Product) -> str | None:
    """The unit a bare price is most likely per, from the amount and the product."""
    usual = unit(product.unit)
    weighed = usual is not None and usual.is_weight
    if quantity is not None:
        if quantity.unit.is_weight:
            return "吨" if quantity.unit.name == "吨" and value >= _PER_TON_FLOOR else (
                "公斤" if quantity.unit.name == "公斤" else "斤"
            )
        if weighed and value < _PER_JIN_CEILING:
            return "斤"
        return quantity.unit.name
    if weighed:
        return "吨" if value >= _PER_TON_FLOOR else "斤"
    return product.unit or None
