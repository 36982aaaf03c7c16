"""ID numbers in free text: masked before a text is stored, kept sealed for the one use that needs them."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmer_mailbox.privacy import IdVault, mask_ids_in, mask_phones_in, redact_ids, unmask_id
from tests.helpers import valid_id

NUMBER = valid_id(birth="19700707", serial=1)      # 330282197007070014


@pytest.mark.parametrize(("text", "masked"), [
    (f"注册 张大山 {NUMBER} 13911112222 杨高村", "注册 张大山 330282********0014 13911112222 杨高村"),
    (f"身份证{NUMBER}。", "身份证330282********0014。"),
    (f"ID{NUMBER}", "ID330282********0014"),
    (f"{NUMBER[:6]} {NUMBER[6:14]} {NUMBER[14:]}", "330282********0014"),             # 6-8-4 groups
    (f"{NUMBER[:6]}-{NUMBER[6:10]}-{NUMBER[10:14]}-{NUMBER[14:]}", "330282********0014"),
    ("".join(chr(ord(c) + 0xFEE0) for c in NUMBER), "330282********0014"),         # full-width digits
    ("11010519491231002x", "110105********002X"),
    ("330282700707001", "330282*****7001"),                                          # 15-digit pre-1999 number
    (NUMBER[:17] + "56", "330282*********0156"),                                     # a digit too many
    (NUMBER[:16] + "A4", "330282********00A4"),                                      # a mistyped character
])
def test_id_shaped_numbers_are_masked(text: str, masked: str) -> None:
    assert redact_ids(text).text == masked


@pytest.mark.parametrize("text", [
    "卖大米 13911112222 5000斤", "联系8613911112222", "订单号1234567890123456789012", "123456789012345",
    "SF1234567890123", "价格1.5元/斤,共300000000000斤", "求购葡萄苗2000株",
])
def test_other_numbers_are_left_alone(text: str) -> None:
    assert redact_ids(text).text == text and redact_ids(text).ids == []


def test_the_numbers_found_come_back_from_the_sealed_list() -> None:
    vault = IdVault(base64.b64decode(base64.b64encode(b"k" * 32)))
    found = redact_ids(f"注册 张大山 {NUMBER.lower()} 13911112222 杨高村 / {valid_id(serial=2)}")
    sealed = vault.seal_list(found.ids)
    assert NUMBER.encode() not in sealed and vault.open_list(sealed) == [NUMBER, valid_id(serial=2)]
    assert unmask_id("330282********0014", vault.open_list(sealed)) == NUMBER
    assert unmask_id("330282********9999", found.ids) == "330282********9999"       # no such number: as typed
    with pytest.raises(Exception):      # noqa: B017 - a list sealed for inbound texts is no ID cipher
        vault.open(sealed)


def test_phones_in_text_are_masked_for_non_staff() -> None:
    assert mask_phones_in("老陈13912345678说,+86 139 1234 5678") == "老陈139****5678说,139****5678"
    assert mask_phones_in(f"证{NUMBER}") == f"证{NUMBER}"


_FILLER = st.text(alphabet=st.sampled_from("卖买葡萄苗 ,。:注册张三杨高村斤元"), max_size=12)
_BIRTH = st.dates(min_value=__import__("datetime").date(1920, 1, 1),
                  max_value=__import__("datetime").date(2020, 12, 31)).map(lambda d: d.strftime("%Y%m%d"))


@given(_FILLER, _FILLER, _BIRTH, st.integers(0, 999))
def test_a_valid_id_anywhere_is_masked_and_recovered(before: str, after: str, birth: str, serial: int) -> None:
    number = valid_id(birth=birth, serial=serial)
    found = redact_ids(before + number + after)
    assert number not in found.text and found.ids == [number]
    assert found.text == before + number[:6] + "********" + number[-4:] + after


@given(st.text(max_size=60))
def test_masking_is_idempotent_and_leaves_nothing_id_shaped(text: str) -> None:
    once = mask_ids_in(text)
    assert mask_ids_in(once) == once
    assert redact_ids(once).ids == []
