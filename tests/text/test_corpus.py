"""Accuracy on the labelled corpus (tests/data): printed for both halves, asserted on the whole."""

from __future__ import annotations

import pytest

from farmer_mailbox.text import parse
from tests.text.text_corpus import load, score

THRESHOLDS = {"intent": 0.95, "product": 0.92, "quantity": 0.90, "price": 0.90, "side": 0.95}


def test_corpus_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    """Intent ≥95%, product ≥92%, quantity and price exact match ≥90% (a value read where none
    was labelled counts as wrong), side ≥95%, over the whole corpus."""
    dev, holdout = load("corpus_dev.tsv"), load("corpus_holdout.tsv")
    assert len(dev) + len(holdout) >= 300
    dev_scores, holdout_scores = score(dev, parse), score(holdout, parse)
    all_scores = score(dev + holdout, parse)
    with capsys.disabled():
        print()
        print(dev_scores.line("dev    "))
        print(holdout_scores.line("holdout"))
        print(all_scores.line("all    "))
    rates = all_scores.rates()
    failing = {k: v for k, v in THRESHOLDS.items() if rates[k] < v}
    assert not failing, f"below threshold: {failing}\n" + "\n".join(all_scores.misses)
