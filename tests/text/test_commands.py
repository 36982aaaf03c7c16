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
        ("y 3", "yes", ("3",)),
        ("确认2", "yes", ("2",)),
        ("可以 3", "yes", ("3",)),
        ("CX 3 4", "cancel", ("3", "4")),
        ("撤销3和5", "cancel", ("3", "5")),
        ("撤销卖苹果", "cancel", ()),
        ("删除我的发布", "cancel", ()),
        ("我要撤销", "cancel", ()),
        ("撤销第2条发布", "cancel", ("2",)),
        ("请帮我删除第3条", "cancel", ("3",)),
        ("我想订阅葡萄信息", "subscribe", ("葡萄",)),
        ("帮我关注鸡苗价格", "subscribe", ("鸡苗",)),
        ("订阅天气", "weather", ("开",)),
        ("订阅天气预报", "weather", ("开",)),
        ("TQ 开", "weather", ("开",)),
        ("明天下雨吗", "weather", ()),
        ("这几天下不下雨", "weather", ()),
        ("横河明天下雨吗", "weather", ("横河",)),
        ("帮助一下", "help", ()),
        ("帮我查下明天天气", "weather", ()),
        ("今天气温多少度", "weather", ()),
        ("取消天气预报", "weather", ("取消",)),
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
    [
        "卖玉米2吨 退订", "退订谢谢", "不卖了TD", "td", "Td 别再发了", "退訂", "收购玉米 电话13912345678 TD",
        "不要再给我发短信了", "别发了", "别再发了", "不要发了", "别给我发短信", "不想收到你们的短信", "请勿再发",
        "以后别再给我推送了", "停止发送", "退定", "推订", "T D", "退 订", "卖苹果 别再发了", "不卖了 退订",
    ],
)
def test_opt_out_always_wins(text: str) -> None:
    assert parse(text).command == Command("opt_out")


@pytest.mark.parametrize("text", ["别再发货了", "今天发了500斤玉米", "不要发错了地址", "发了吗"])
def test_sending_words_about_other_things_are_no_opt_out(text: str) -> None:
    assert parse(text).command != Command("opt_out")


@pytest.mark.parametrize(
    "text", ["好的", "是", "是的", "ok", "OK", "好", "可以", "行", "收到", "嗯嗯", "好的 3", "是 2"]
)
def test_a_polite_reply_never_consents_to_sharing_numbers(text: str) -> None:
    command = parse(text).command
    assert command is None or command.name != "yes"


@pytest.mark.parametrize("text", ["今天下雨了", "什么时候下雨", "下雨天卖玉米2吨"])
def test_rain_news_is_no_weather_request(text: str) -> None:
    command = parse(text).command
    assert command is None or command.name != "weather"


@pytest.mark.parametrize(
    "text", ["价格面议 卖玉米2吨", "联系电话13912345678 卖鸡蛋", "tdk卖玉米", "我的玉米卖了", "订购玉米2吨"]
)
def test_command_words_inside_postings_are_not_commands(text: str) -> None:
    assert parse(text).intent != "command"
