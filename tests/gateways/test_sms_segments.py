"""Segment counting: fixed cases, then properties against smsutil (a dev-only oracle)."""

from __future__ import annotations

import smsutil
from hypothesis import assume, given
from hypothesis import strategies as st
from smsutil.codecs import is_valid_gsm

from gateways.segments import SegmentCount, count, is_gsm7, mainland_segments, split, ucs2_segments

GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà"
GSM_EXTENSION = "^{}\\[~]|€"
OTHER = "中文农民信箱求购葡萄苗，。！😀🍇ç`"
ALPHABET = GSM_BASIC + GSM_EXTENSION + OTHER


def test_known_lengths() -> None:
    assert count("a" * 160).segments == 1
    assert count("a" * 161).segments == 2
    assert count("a" * 153 * 2).segments == 2
    assert count("€" * 80) == SegmentCount("gsm7", 160, 1)
    assert [len(part) for part in split("€" * 81)] == [76, 5]  # an escape pair is never split
    assert count("中" * 70).segments == 1
    assert count("中" * 71).segments == 2
    assert count("中" * 150).segments == 3
    assert count("😀" * 35) == SegmentCount("ucs2", 70, 1)
    assert count("").segments == 1


def test_surrogate_pairs_are_never_split() -> None:
    parts = split("a" + "😀" * 40)  # 81 UTF-16 units: the 34th emoji would straddle unit 67
    assert [len(p.encode("utf-16-be")) // 2 for p in parts] == [67, 14]
    assert "".join(parts) == "a" + "😀" * 40


def test_ucs2_segments_ignore_the_gsm_alphabet() -> None:
    assert ucs2_segments("a" * 70) == 1
    assert ucs2_segments("a" * 71) == 2
    assert ucs2_segments("中" * 150) == 3  # 67 + 67 + 16, as Kannel sends it (observed)


def test_mainland_rule_counts_the_signature() -> None:
    assert mainland_segments("【农民信箱】", "x" * 64) == 1
    assert mainland_segments("【农民信箱】", "x" * 65) == 2
    assert mainland_segments("【农民信箱】", "x" * (134 - 6)) == 2
    assert mainland_segments("【农民信箱】", "x" * (134 - 5)) == 3


@given(st.text(ALPHABET, max_size=400))
def test_agrees_with_smsutil(text: str) -> None:
    assume(is_gsm7(text) == is_valid_gsm(text))  # the two codecs differ on a few control characters
    theirs = smsutil.split(text)
    ours = split(text)
    assert ours == [part.content for part in theirs.parts]
    assert count(text).segments == len(theirs.parts)
    assert count(text).encoding == ("gsm7" if theirs.encoding == "gsm0338" else "ucs2")


@given(st.text(ALPHABET, max_size=400))
def test_ucs2_parts_agree_with_smsutil_for_text_that_needs_ucs2(text: str) -> None:
    assume(not is_gsm7(text) and not is_valid_gsm(text))  # smsutil picks UCS-2 only for such text
    assert ucs2_segments(text) == len(smsutil.split(text).parts) == count(text).segments


@given(st.text(ALPHABET, max_size=400))
def test_parts_rejoin_and_fit(text: str) -> None:
    parts = split(text)
    assert "".join(parts) == text
    if len(parts) > 1:
        for part in parts:
            size = len(part.encode("gsm03.38")) if is_gsm7(text) else len(part.encode("utf-16-be")) // 2
            assert size <= (153 if is_gsm7(text) else 67)


@given(st.text(max_size=300), st.text(max_size=20))
def test_mainland_rule_is_monotonic(text: str, signature: str) -> None:
    assert mainland_segments(signature, text) <= mainland_segments(signature, text + "x")
    assert mainland_segments(signature, text) >= 1



def _codec_accepts(text: str) -> bool:
    try:
        text.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True


def test_the_whole_gsm_alphabet_lies_at_or_below_the_euro_sign() -> None:
    """is_gsm7 rejects text above U+20AC without running the codec: nothing the codec decodes is above it."""
    alphabet = set()
    for byte in range(128):
        for encoded in (bytes([byte]), bytes([0x1B, byte])):
            try:
                alphabet.add(encoded.decode("gsm03.38"))
            except UnicodeDecodeError:
                continue
    assert max(alphabet) == "€" and all(is_gsm7(char) for char in alphabet if len(char) == 1)


@given(st.text(ALPHABET, max_size=50) | st.text(max_size=50))
def test_is_gsm7_agrees_with_the_codec(text: str) -> None:
    assert is_gsm7(text) == _codec_accepts(text)
