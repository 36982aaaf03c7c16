"""Properties of the parser over any text: never raises, opt-out always wins, deterministic."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from farmer_mailbox.text.parser import parse_strict

# Text as phones send it: Chinese, digits (also full-width), Latin, punctuation, emoji, anything.
_FARM_CHARS = "卖收购买出售玉米葡萄苗鸡蛋猪仔两三五百千万斤吨株头元块毛每一杨高村镇面议退订天气价格注册问"
_PIECES = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=_FARM_CHARS + "0123456789０１２３.,，。-~/ ?!🍉😊", max_size=30),
    st.sampled_from(["TD", "td", "BZ", "JG", "HF12", "13912345678", "1块5一斤", "两三百斤", "退訂", "¥3"]),
)
_MESSAGES = st.lists(_PIECES, max_size=40).map("".join).map(lambda s: s[:1000])
_SEPARATORS = st.sampled_from([" ", "\n", "，", "。", "!", "、", ""])


@settings(max_examples=150, deadline=None)
@given(_MESSAGES)
def test_never_raises_and_always_serialises(text: str) -> None:
    result = parse_strict(text)
    assert result.text == text
    assert result.intent in ("sell", "buy", "query", "command", "other")
    json.dumps(result.to_json(), ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=1000))
def test_never_raises_on_arbitrary_unicode(text: str) -> None:
    parse_strict(text)


@settings(max_examples=150, deadline=None)
@given(_MESSAGES, st.sampled_from(["退订", "TD", "td", "Td", "退訂"]), _MESSAGES, _SEPARATORS, _SEPARATORS)
def test_opt_out_standing_as_a_word_always_wins(
    before: str, word: str, after: str, left: str, right: str
) -> None:
    if word.isascii():  # a Latin code stands as a word when no Latin letter touches it
        left, right = left or " ", right or " "
    text = f"{before[:400]}{left}{word}{right}{after[:400]}"
    result = parse_strict(text)
    assert result.intent == "command" and result.command is not None and result.command.name == "opt_out"


@settings(max_examples=150, deadline=None)
@given(
    _MESSAGES,
    st.sampled_from(["T D", "t d", "退 订", "退定", "推订", "不要再发了", "别给我发短信"]),
    _MESSAGES,
    st.sampled_from(["\n", "，", "。", "!", "、"]),
    st.sampled_from(["\n", "，", "。", "!", "、", ""]),
)
def test_spelled_out_or_plainly_asked_opt_out_always_wins(
    before: str, words: str, after: str, left: str, right: str
) -> None:
    right = right or (" " if " " in words else "")  # spelled out, it must stand as a word
    text = f"{before[:400]}{left}{words}{right}{after[:400]}"
    result = parse_strict(text)
    assert result.command is not None and result.command.name == "opt_out"


_POLITE = st.sampled_from(["好的", "好", "是", "是的", "ok", "OK", "行", "嗯", "收到", "谢谢", "可以", "知道了"])


@settings(max_examples=100, deadline=None)
@given(_POLITE, st.sampled_from(["", " ", "!", "。", "~", "😊"]), st.sampled_from(["", " 3", "3", " 12"]))
def test_a_polite_reply_never_consents(word: str, mark: str, number: str) -> None:
    command = parse_strict(f"{word}{mark}" if word == "可以" else f"{word}{mark}{number}").command
    assert command is None or command.name != "yes"


@settings(max_examples=100, deadline=None)
@given(_MESSAGES)
def test_deterministic(text: str) -> None:
    assert parse_strict(text) == parse_strict(text)
    assert parse_strict(text).to_json() == parse_strict(text).to_json()
