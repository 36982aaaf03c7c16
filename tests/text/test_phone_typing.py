"""How feature phones and hurried thumbs write: characters one at a time, pinyin, typos."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.text import Command, parse
from farmer_mailbox.text.lexicon import load_lexicon
from farmer_mailbox.text.normalize import normalize


def product_of(text: str) -> list[tuple[str, float | None, str | None]]:
    """(product, quantity, unit) of each posting."""
    return [(p.product, p.quantity, p.unit) for p in parse(text).postings]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("卖 西 红 柿 1000 斤", [("番茄", 1000, "斤")]),
        ("收 玉 米 2 吨", [("玉米", 2, "吨")]),
        ("卖 葡 萄 苗 500 株", [("葡萄苗", 500, "株")]),
        ("卖 土 鸡 蛋 300 斤", [("鸡蛋", 300, "斤")]),
        ("卖 鸡蛋 300斤", [("鸡蛋", 300, "斤")]),
        ("出 售 鸭 苗 两 千 只", [("鸭苗", 2000, "只")]),
        ("卖 番 薯 苗 3 万 株", [("红薯苗", 30000, "株")]),
    ],
)
def test_characters_typed_one_at_a_time_are_read_as_words(
    text: str, expected: list[tuple[str, float, str]]
) -> None:
    assert product_of(text) == expected


def test_spaced_egg_keeps_its_quality_and_is_one_posting() -> None:
    (eggs,) = parse("卖 土 鸡 蛋 300 斤").postings
    assert eggs.quality == ("土",)


@pytest.mark.parametrize(("text", "name"), [("退 订", "opt_out"), ("T D", "opt_out"), ("t d", "opt_out")])
def test_spaced_commands(text: str, name: str) -> None:
    assert parse(text).command == Command(name)


def test_two_real_words_separated_by_a_space_stay_apart() -> None:
    assert normalize("卖 鸡蛋 300斤 土 鸡") == "卖 鸡蛋 300斤 土鸡"
    assert normalize("出售 大白菜 杨高村") == "出售 大白菜 杨高村"


_WORDS = st.sampled_from(["鸡蛋", "葡萄苗", "玉米", "杨高村", "价格", "面议", "出售", "电话", "西红柿"])


@settings(max_examples=100, deadline=None)
@given(st.lists(_WORDS, min_size=2, max_size=8))
def test_words_of_two_characters_or_more_are_never_glued(words: list[str]) -> None:
    assert normalize(" ".join(words)) == " ".join(words)


_NAMES = sorted({p.name for p in load_lexicon().products() if 2 <= len(p.name) <= 4 and p.category != "劳务"})


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_NAMES), st.sampled_from(["卖", "收购", "出售"]), st.integers(2, 9000))
def test_a_product_spelled_out_reads_as_the_product(name: str, cue: str, amount: int) -> None:
    plain = parse(f"{cue}{name}{amount}斤")
    spaced = parse(f"{' '.join(cue)} {' '.join(name)} {amount} 斤")
    assert [p.to_json() for p in spaced.postings] == [p.to_json() for p in plain.postings]
    assert spaced.intent == plain.intent


@pytest.mark.parametrize(
    ("text", "quantity", "unit", "base"),
    [
        ("卖玉米 2000 jin", 2000, "斤", 2000),
        ("卖鸡蛋 500jin 5yuan/jin", 500, "斤", 500),
        ("卖葡萄苗 5k株", 5000, "株", 5000),
        ("卖葡萄苗 5w株", 50000, "株", 50000),
        ("卖花生 1.5w斤", 15000, "斤", 15000),
        ("出售大米 1000kg", 1000, "公斤", 2000),
        ("卖小麦 3 dun", 3, "吨", 6000),
        ("出租土地 20mu", 20, "亩", 20),
    ],
)
def test_latin_units_and_shorthand(text: str, quantity: float, unit: str, base: float) -> None:
    (posting,) = parse(text).postings
    assert (posting.quantity, posting.unit, posting.base_quantity) == (quantity, unit, base)


def test_latin_price() -> None:
    (eggs,) = parse("卖鸡蛋 500jin 5yuan/jin").postings
    assert (eggs.price, eggs.price_unit) == (5, "元/斤")


def test_five_kilograms_is_not_five_thousand_grams() -> None:
    (rice,) = parse("卖大米 5kg").postings
    assert (rice.quantity, rice.unit) == (5, "公斤")


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("出售 hongshu 500斤", "红薯"),
        ("卖 pingguo 300斤", "苹果"),
        ("收购 xiaomai 10吨", "小麦"),
        ("MAI yumi 2 dun", "玉米"),
    ],
)
def test_a_product_typed_in_full_pinyin(text: str, product: str) -> None:
    assert [p.product for p in parse(text).postings] == [product]


def test_latin_that_is_only_part_of_a_reading_names_nothing() -> None:
    assert parse("卖 mi 500斤").postings == ()
    assert parse("hello 500斤").postings == ()


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("卖葡桃300斤", "葡萄"),  # 桃 alone is a product: 葡 beside it says otherwise
        ("卖花升300斤", "花生"),  # jieba reads 卖花 as one word
        ("卖小卖5吨", "小麦"),  # the second 卖 is part of the typo
        ("卖鸡苖1000只", "鸡苗"),  # 苖 looks like 苗
        ("卖板粟500斤", "板栗"),  # 粟 looks like 栗
        ("卖西爪2000斤", "西瓜"),
        ("卖高梁2吨", "高粱"),
        ("卖竽头300斤", "芋头"),
    ],
)
def test_homophone_and_look_alike_typos(text: str, product: str) -> None:
    assert [p.product for p in parse(text).postings] == [product]


def test_a_typo_swallowing_a_cue_keeps_the_other_cue() -> None:
    assert parse("收花升300斤").intent == "buy"
    assert parse("卖小卖5吨").intent == "sell"


def test_homophones_do_not_cross_categories_without_a_reason() -> None:
    # 白树 sounds like 白薯 (粮油), 白苏 (蔬菜), 白术 (其他) and 柏树 (苗木种子): 斤 says nothing.
    assert parse("卖白树500斤").postings == ()
    # 棵 is a reason: only seedlings are counted in 棵.
    assert [p.product for p in parse("卖白树500棵").postings] == ["柏树"]
    # 田罗: 天罗 (a vegetable) or 田螺 (a snail)?
    assert parse("卖田罗100斤").postings == ()
    assert parse("我打算明天去").postings == ()


def test_a_respelling_keeps_the_category_of_the_word_it_corrects() -> None:
    # 桃 (水果) beside 葡 may become 葡萄 (水果); 鸡 beside a stray character stays 畜禽.
    for text in ("卖葡桃300斤", "卖鸡苖1000只"):
        (posting,) = parse(text).postings
        assert posting.category == {"卖葡桃300斤": "水果", "卖鸡苖1000只": "畜禽"}[text]


def test_exact_names_beat_guesses() -> None:
    assert [p.product for p in parse("卖桃300斤").postings] == ["桃"]
    assert [p.product for p in parse("卖鸡1000只").postings] == ["鸡"]


@pytest.mark.parametrize(
    ("text", "name"),
    [("B Z", "help"), ("W D", "mine"), ("C X 3", "cancel"), ("L X 2", "contact"), ("T Q", "weather")],
)
def test_latin_codes_spelled_out_letter_by_letter(text: str, name: str) -> None:
    command = parse(text).command
    assert command is not None and command.name == name


def test_single_letters_that_spell_no_code_stay_apart() -> None:
    assert normalize("卖苹果 a b c") == "卖苹果 a b c"
