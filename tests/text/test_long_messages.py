"""A very long message is read in bounded work: postings from its first MAX_READ characters, opt-out anywhere."""

from __future__ import annotations

from farmer_mailbox.text.parser import MAX_READ, parse_strict

LIST = "卖玉米五百斤 苞谷 葡萄苗 化肥 鸡苗 "


def test_postings_come_from_the_first_characters_and_the_text_is_kept_whole() -> None:
    # reading grows with the square of the products named: 21,000 characters of this took seconds
    text = LIST * 2000
    result = parse_strict(text)
    assert result.text == text
    assert result.postings == parse_strict(text[:MAX_READ]).postings
    assert result.intent == "sell" and result.postings


def test_opt_out_at_the_end_of_a_long_message_still_wins() -> None:
    result = parse_strict(LIST * 400 + " 退订")
    assert result.command is not None and result.command.name == "opt_out"


def test_a_command_with_an_endless_argument_reads_its_product() -> None:
    result = parse_strict("JG " + "玉米" * 20_000)
    assert result.command is not None and result.command.name == "price" and result.command.args == ("玉米",)
