"""Loading and scoring the labelled corpus in tests/data (shared by the corpus test and the bench).

Scoring is strict: a posting labelled without a quantity (or price) must be read without one (a
spurious amount is an error, as it would be on the market), and the side of every posting is
scored: the message's intent for sell/buy messages, or a `side:buy` / `side:sell` field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from farmer_mailbox.text.lexicon import load_lexicon
from farmer_mailbox.text.models import ParseResult, Posting
from farmer_mailbox.text.numbers import unit

DATA = Path(__file__).resolve().parents[1] / "data"
_QTY = re.compile(r"^(?P<q>\d+(?:\.\d+)?)(?P<u>\D+)$")
_PRICE = re.compile(
    r"^(?P<p>\d+(?:\.\d+)?)(?:-(?P<max>\d+(?:\.\d+)?))?元(?:/(?P<u>[^以]+))?(?P<ceiling>以内)?$"
)


@dataclass(frozen=True)
class ExpectedPosting:
    product: str
    quantity: tuple[float, str] | None = None
    price: tuple[float | None, float | None, str] | None = None
    side: str | None = None


@dataclass(frozen=True)
class Case:
    text: str
    intent: str
    postings: tuple[ExpectedPosting, ...] = ()
    command: tuple[str, ...] | None = None


@dataclass
class Scores:
    messages: int = 0
    intent_ok: int = 0
    product_cases: int = 0
    product_ok: int = 0
    quantities: int = 0
    quantity_ok: int = 0
    prices: int = 0
    price_ok: int = 0
    commands: int = 0
    command_ok: int = 0
    sides: int = 0
    side_ok: int = 0
    misses: list[str] = field(default_factory=list)

    def rates(self) -> dict[str, float]:
        return {
            "intent": _rate(self.intent_ok, self.messages),
            "product": _rate(self.product_ok, self.product_cases),
            "quantity": _rate(self.quantity_ok, self.quantities),
            "price": _rate(self.price_ok, self.prices),
            "command": _rate(self.command_ok, self.commands),
            "side": _rate(self.side_ok, self.sides),
        }

    def line(self, name: str) -> str:
        r = self.rates()
        return (
            f"{name}: {self.messages} messages | intent {r['intent']:.1%} | product {r['product']:.1%} "
            f"({self.product_cases}) | quantity {r['quantity']:.1%} ({self.quantities}) | "
            f"price {r['price']:.1%} ({self.prices}) | command {r['command']:.1%} ({self.commands}) | "
            f"side {r['side']:.1%} ({self.sides})"
        )


def _rate(ok: int, total: int) -> float:
    return ok / total if total else 1.0


def load(name: str) -> list[Case]:
    """Cases of one corpus file (`corpus_dev.tsv` or `corpus_holdout.tsv`)."""
    cases = []
    for raw in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        text, intent, labels = [*raw.split("\t"), "", ""][:3]
        if intent == "command":
            cases.append(Case(text, intent, command=tuple(labels.split("|"))))
        else:
            side = intent if intent in ("sell", "buy") else None
            postings = tuple(_posting(p, side) for p in labels.split(";") if p.strip())
            cases.append(Case(text, intent, postings))
    return cases


def _posting(label: str, side: str | None) -> ExpectedPosting:
    name, *fields = label.split()
    product = load_lexicon().lookup(name)
    assert product is not None, f"label names no product: {name}"
    quantity = price = None
    for item in fields:
        if item in ("side:sell", "side:buy"):
            side = item.removeprefix("side:")
        elif item == "面议":
            price = (None, None, "面议")
        elif (m := _PRICE.match(item)) is not None:
            high = float(m["max"]) if m["max"] else float(m["p"]) if m["ceiling"] else None
            price = (float(m["p"]), high, f"元/{m['u']}" if m["u"] else "元")
        elif (m := _QTY.match(item)) is not None:
            found = unit(m["u"])
            quantity = (float(m["q"]), found.name if found else m["u"])
        else:
            raise AssertionError(f"cannot read label field {item!r} in {label!r}")
    return ExpectedPosting(product.name, quantity, price, side)


def score(cases: Iterable[Case], parse: Callable[[str], ParseResult]) -> Scores:
    """Intent, product, quantity, price and command agreement of `parse` with the labels."""
    scores = Scores()
    for case in cases:
        _score_case(scores, case, parse(case.text))
    return scores


def _score_case(scores: Scores, case: Case, result: ParseResult) -> None:
    scores.messages += 1
    if result.intent == case.intent:
        scores.intent_ok += 1
    else:
        scores.misses.append(f"intent {result.intent} != {case.intent}: {case.text}")
    if case.command is not None:
        scores.commands += 1
        got = (result.command.name, *result.command.args) if result.command else None
        scores.command_ok += got == case.command
        if got != case.command:
            scores.misses.append(f"command {got} != {case.command}: {case.text}")
    parsed = {p.product: p for p in result.postings}
    if case.postings:
        scores.product_cases += 1
        expected = {p.product for p in case.postings}
        if expected == set(parsed):
            scores.product_ok += 1
        else:
            scores.misses.append(f"products {sorted(parsed)} != {sorted(expected)}: {case.text}")
    for want in case.postings:
        _score_posting(scores, case.text, want, parsed.get(want.product))


def _score_posting(scores: Scores, text: str, want: ExpectedPosting, got: Posting | None) -> None:
    """Quantity, price and side of one labelled posting; a value read where none was labelled
    is as wrong as a value misread."""
    scores.quantities += 1
    have = (got.quantity, got.unit) if got and got.quantity is not None else None
    if want.quantity is None:
        same = have is None
    else:
        same = have is not None and _same(have[0], want.quantity[0]) and have[1] == want.quantity[1]
    scores.quantity_ok += same
    if not same:
        scores.misses.append(f"quantity {have} != {want.quantity}: {text}")
    scores.prices += 1
    have_p = (got.price, got.price_max, got.price_unit) if got and got.price_unit is not None else None
    same = have_p is None if want.price is None else have_p is not None and _same_price(have_p, want.price)
    scores.price_ok += same
    if not same:
        scores.misses.append(f"price {have_p} != {want.price}: {text}")
    if want.side is not None and got is not None:
        scores.sides += 1
        scores.side_ok += got.side == want.side
        if got.side != want.side:
            scores.misses.append(f"side {got.side} != {want.side} ({want.product}): {text}")


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < 1e-6


def _same_price(
    have: tuple[float | None, float | None, str | None], want: tuple[float | None, float | None, str]
) -> bool:
    return _same(have[0], want[0]) and _same(have[1], want[1]) and have[2] == want[2]
