"""Short commands, each with a Chinese word and a Latin form; opt-out always wins."""

from __future__ import annotations

import pytest

from farmer_mailbox.text import Command, parse


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("帮助", "help", ()),
        ("BZ", "help", ()),
        ("?", "help", ()),
        ("退订", "opt_out", ()),
        ("TD", "opt_out", ()),
        ("訂閱 玉米 蘋果", "subscribe", ("玉米", "苹果")),
        ("DY 包谷", "subscribe", ("玉米",)),
        ("我的", "mine", ()),
        ("wd", "mine", ()),
        ("撤销 2", "cancel", ("2",)),
        ("CX1", "cancel", ("1",)),
        ("撤销第三条", "cancel", ("3",)),
        ("联系 3", "contact", ("3",)),
        ("LX2", "contact", ("2",)),
        ("天气", "weather", ()),
        ("TQ 横河", "weather", ("横河",)),
        ("明天天气怎么样", "weather", ()),
        ("价格 玉米", "price", ("玉米",)),
        ("JG洋芋", "price", ("马铃薯",)),
        ("问 玉米叶子发黄怎么办", "ask", ("玉米叶子发黄怎么办",)),
        ("W 桃树流胶", "ask", ("桃树流胶",)),
        ("HF12 明天来看苗", "reply", ("12", "明天来看苗")),
        ("回复 5", "reply", ("5",)),
        ("Y", "yes", ()),
        ("同意", "yes", ()),
        ("绑定 13912345678", "bind", ("13912345678",)),
        ("382916", "code", ("382916",)),
        (
            "注册 张三 33028219800101123x 13912345678 杨高村",
            "register",
            ("张三", "33028219800101123X", "13912345678", "杨高村"),
        ),
    ],
)
def test_commands(text: str, name: str, args: tuple[str, ...]) -> None:
    result = parse(text)
    assert (result.intent, result.command) == ("command", Command(name, args))
    assert result.postings == ()


@pytest.mark.parametrize(
    "text",
    ["卖玉米2吨 退订", "退订谢谢", "不卖了TD", "td", "Td 别再发了", "退訂", "收购玉米 电话13912345678 TD"],
)
def test_opt_out_always_wins(text: str) -> None:
    assert parse(text).command == Command("opt_out")


@pytest.mark.parametrize(
    "text", ["价格面议 卖玉米2吨", "联系电话13912345678 卖鸡蛋", "tdk卖玉米", "我的玉米卖了"]
)
def test_command_words_inside_postings_are_not_commands(text: str) -> None:
    assert parse(text).intent != "command"
