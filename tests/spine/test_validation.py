"""Resident ID and phone validation: each failure has its own code and message."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.validation import ValidationError, validate_id_number, validate_mobile, validate_name
from tests.helpers import valid_id

TODAY = date(2026, 11, 22)


def test_a_valid_id_is_normalised() -> None:
    number = valid_id(birth="19751231")
    assert validate_id_number(f" {number[:6]} {number[6:]} ", TODAY) == number
    assert validate_id_number("11010519491231002x", TODAY) == "11010519491231002X"


def test_prefix_is_checked_in_any_era_not_only_the_birth_year() -> None:
    # 慈溪市 became 330282 in 1989; a resident born in 1980 holds a 330282 number.
    assert validate_id_number(valid_id("330282", "19800101"), TODAY)


@pytest.mark.parametrize(("number", "code"), [
    ("33028219800101123", "id.length"),
    ("3302821980010112345", "id.length"),
    ("33028219800101A234", "id.format"),
    (valid_id(birth="19801301")[:17] + "0", "id.birth_date"),
    (valid_id(birth="20300101"), "id.birth_date"),
    (valid_id(birth="18800101"), "id.birth_date"),
    (valid_id(region="990282"), "id.region"),
    ("330282198001011234", "id.checksum"),
])
def test_each_id_failure_has_its_own_code(number: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_id_number(number, TODAY)
    assert info.value.code == code
    assert info.value.message


@given(st.text(max_size=40))
def test_id_validation_only_ever_refuses_with_a_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        validate_id_number(text, TODAY)


@pytest.mark.parametrize(("phone", "expected"), [
    ("13912345678", "13912345678"), ("+86 139 1234 5678", "13912345678"), ("8613912345678", "13912345678"),
    ("１３９１２３４５６７８", "13912345678"), ("199-1234-5678", "19912345678"),
])
def test_mobile_numbers_are_normalised(phone: str, expected: str) -> None:
    assert validate_mobile(phone) == expected


@pytest.mark.parametrize(("phone", "code"), [
    ("hello", "phone.format"), ("+1 415 555 0100", "phone.country"), ("02112345678", "phone.not_mobile"),
    ("1391234567", "phone.not_mobile"), ("14012345678", "phone.invalid"),
])
def test_each_phone_failure_has_its_own_code(phone: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_mobile(phone)
    assert info.value.code == code


@given(st.text(max_size=30))
def test_phone_validation_only_ever_refuses_with_a_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        validate_mobile(text)


@pytest.mark.parametrize("name", ["张", "张3", "x" * 21, "  "])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_name(name)


@pytest.mark.parametrize(("typed", "stored"), [
    ("张三", "张三"), ("欧阳娜仁托娅", "欧阳娜仁托娅"), ("王〇", "王〇"), ("𠇔明", "𠇔明"), ("䶮红", "䶮红"),
    ("阿依古丽·买买提", "阿依古丽·买买提"), ("阿依古丽・买买提", "阿依古丽·买买提"),
    ("阿依古丽.买买提", "阿依古丽·买买提"), ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("张　三", "张三"), (" 李 四 ", "李四"), ("张三\u200b", "张三"),
    ("努尔·阿卜杜拉·艾买提江·阿不都热合曼", "努尔·阿卜杜拉·艾买提江·阿不都热合曼"),
])
def test_real_names_are_accepted_as_on_the_id_card(typed: str, stored: str) -> None:
    assert validate_name(typed) == stored


@pytest.mark.parametrize("name", ['"引号,农"', "引号,农", "张三!", "李明（小）", "John", "张三a", "·张三", "张三·",
                                  "张··三", "张-三", "<script>"])
def test_names_with_punctuation_or_latin_letters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_name(name)
    assert info.value.code == "name.invalid" and "汉字" in info.value.message


@given(st.text(max_size=30))
def test_an_accepted_name_is_only_han_characters_and_inner_dots(text: str) -> None:
    try:
        name = validate_name(text)
    except ValidationError:
        return
    assert 2 <= len(name) <= 20 and not name.startswith("·") and not name.endswith("·") and "··" not in name
    assert all(ch == "·" or ch == "〇" or ch >= "\u3400" for ch in name)


@pytest.mark.parametrize(("sender", "address"), [
    ("+8613900000011", "13900000011"), ("008613900000011", "13900000011"), ("8613900000011", "13900000011"),
    ("+86 139-0000-0011", "13900000011"), ("13900000011", "13900000011"),
    ("+８６１３９００００００１１", "13900000011"),
    ("+15005550006", "+15005550006"), ("10086", "10086"), (" 13900000011 ", "13900000011"), ("", ""),
])
def test_sms_senders_are_brought_to_the_11_digits(sender: str, address: str) -> None:
    from farmer_mailbox.validation import sms_address

    assert sms_address(sender) == address


@given(st.text(max_size=24))
def test_sms_address_never_raises_and_is_stable(text: str) -> None:
    from farmer_mailbox.validation import sms_address

    once = sms_address(text)
    assert sms_address(once) == once
