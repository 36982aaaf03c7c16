"""The Kannel harness's pure parts: fakesmsc output parsing, MO lines, the skip-or-fail rule."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import kannel, kannel_install
from tests.support.kannel import MtMessage, _mo_line, _Reassembler

PREFIX = "2026-11-22 02:51:05 [21876] [0] DEBUG: Got message 1: <"


def test_single_ucs2_line() -> None:
    # observed on Debian kannel 1.4.5-12 (protocols.md §1)
    encoded = "0%10Q%9Cl%11O%E1%7B%B10%11lB%8D-%84a%84%04%82%D7%5D%F2v%7B%8B%B0%00+%7F%16S%F7%001%002"
    line = f"{PREFIX}10690000 13912345678 ucs-2 {encoded}>"
    message = _Reassembler().feed(line)
    assert message == MtMessage(
        "10690000", "13912345678", "ucs-2", "【农民信箱】求购葡萄苗已登记 编号12".encode("utf-16-be")
    )
    assert message.text == "【农民信箱】求购葡萄苗已登记 编号12"


def test_text_line_keeps_raw_text() -> None:
    message = _Reassembler().feed(PREFIX + "10690000 13912345678 text ?? world>")
    assert message is not None and (message.kind, message.text) == ("text", "?? world")


def _part(ref: int, seq: int, body: str, total: int = 2, sixteen_bit: bool = False) -> str:
    udh = bytes([6, 8, 4, 0, ref, total, seq]) if sixteen_bit else bytes([5, 0, 3, ref, total, seq])
    return (
        PREFIX
        + f"10690000 13912345678 udh {quote(udh, safe='')} data {quote(body.encode('utf-16-be'), safe='')}>"
    )


@pytest.mark.parametrize("sixteen_bit", [False, True])
def test_parts_join_in_sequence_order_whatever_the_arrival(sixteen_bit: bool) -> None:
    joiner = _Reassembler()
    assert joiner.feed(_part(9, 2, "第二", sixteen_bit=sixteen_bit)) is None
    assert joiner.feed(_part(7, 1, "别的", sixteen_bit=sixteen_bit)) is None  # another message in between
    message = joiner.feed(_part(9, 1, "第一", sixteen_bit=sixteen_bit))
    assert message is not None and (message.parts, message.text) == (2, "第一第二")


def test_other_log_lines_are_ignored() -> None:
    assert _Reassembler().feed("2026-11-22 02:51:05 [1] [0] DEBUG: fakesmsc: sent message 1") is None


def test_mo_lines_prefer_exact_ucs2_and_fall_back_to_text() -> None:
    assert _mo_line("139", "106", "a  b") == b"139 106 ucs2 %00a%00%20%00%20%00b\n"
    long_text = "长" * 70  # 420 bytes as url-encoded UCS-2: too long for fakesmsc's 255-byte reads
    assert _mo_line("139", "106", long_text) == f"139 106 text {long_text}\n".encode()
    with pytest.raises(ValueError, match="too long"):
        _mo_line("139", "106", "长\n" * 60)


def test_missing_kannel_skips_or_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kannel_install, "BEARERBOX", Path("/nonexistent/bearerbox"))
    assert "/nonexistent/bearerbox" in kannel.kannel_missing()
    monkeypatch.delenv(kannel.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="scripts/install-kannel"):
        kannel.require_kannel()
    monkeypatch.setenv(kannel.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="FARMER_MAILBOX_REQUIRE_KANNEL is set"):
        kannel.require_kannel()
