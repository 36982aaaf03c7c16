"""The lexicon as data: coverage, one product per surface form, sensible families."""

from __future__ import annotations

import pytest

from farmer_mailbox.text.lexicon import CATEGORIES, PEST_KINDS, load_lexicon
from farmer_mailbox.text.numbers import unit
from farmer_mailbox.text.segment import default_segmenter


def test_sizes_and_categories() -> None:
    lexicon = load_lexicon()
    assert len(lexicon.products()) >= 600
    assert len(lexicon.pests()) >= 100
    assert {p.category for p in lexicon.products()} == set(CATEGORIES)


def test_every_parent_exists_and_families_have_no_cycles() -> None:
    lexicon = load_lexicon()
    for product in lexicon.products():
        if product.parent is not None:
            assert lexicon.product(product.parent)
        assert product.name not in lexicon.ancestors(product.name)
        assert unit(product.unit) is not None or product.unit in ("米", "天", "月", "趟"), product


def test_pests_name_real_crops() -> None:
    lexicon = load_lexicon()
    for pest in lexicon.pests():
        assert pest.kind in PEST_KINDS
        for crop in pest.crops:
            assert lexicon.product(crop)


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("苞谷", "玉米"), ("包谷", "玉米"), ("玉蜀黍", "玉米"), ("棒子", "玉米"),
        ("土豆", "马铃薯"), ("洋芋", "马铃薯"),
        ("地瓜", "红薯"), ("番薯", "红薯"), ("红苕", "红薯"), ("山芋", "红薯"),
        ("猪仔", "仔猪"), ("沙糖桔", "砂糖橘"), ("包穀", "玉米"),
    ],
)
def test_dialect_names(word: str, canonical: str) -> None:
    found = load_lexicon().lookup(word)
    assert found is not None and found.name == canonical


@pytest.mark.parametrize(
    ("wanted", "offered", "matches"),
    [
        ("化肥", "尿素", True),
        ("化肥", "复合肥", True),
        ("肥料", "磷肥", True),
        ("苗木", "葡萄苗", True),
        ("鱼", "草鱼", True),
        ("尿素", "化肥", False),
        ("生猪", "猪肉", False),
        ("生猪", "猪饲料", False),
        ("生猪", "仔猪", False),
        ("鸡", "鸡苗", False),
        ("鸡", "鸡蛋", False),
        ("鸡蛋", "鸡苗", False),
        ("葡萄", "葡萄苗", False),
        ("葡萄", "葡萄干", False),
        ("小麦", "麦种", False),
    ],
)
def test_family_matching_rule(wanted: str, offered: str, matches: bool) -> None:
    assert load_lexicon().matches(wanted, offered) is matches


@pytest.mark.parametrize("word", ["稻纵卷叶螟", "草地贪夜蛾", "褐飞虱", "砂糖橘", "玉米", "葡萄苗"])
def test_segmenter_keeps_agricultural_words_whole(word: str) -> None:
    assert word in default_segmenter().words(f"今年{word}很多")
