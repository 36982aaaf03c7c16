"""Short commands: each has a Chinese word and a short Latin form (帮助/BZ, 退订/TD, ...).

Opt-out always wins: 退订 (or its typos 退定, 推订), TD standing as a word (not inside a longer
Latin word), or a plain request to stop the messages (不要再发了, 别给我发短信) anywhere in the
message makes it an opt-out whatever else it says. Other commands must open the message, so
"价格面议" stays a posting and "联系电话139..." is no 联系 command; 订阅 may follow a few words
of wish (我想订阅葡萄信息).

Consent to share phone numbers (Y n) is only an explicit Y, yes, 同意 or 确认 (or 可以 with the
match number): a polite 好的, 是 or ok never releases anyone's number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from farmer_mailbox.text.models import Command

# Chinese words per command (added to the segmenter so they stay whole words).
_WORDS = {
    "help": ("帮助", "菜单", "使用说明", "怎么用"),
    "subscribe": ("订阅", "关注"),
    "mine": ("我的", "我的信息", "我的发布", "我发布的", "我的信箱", "我的帖子"),
    "cancel": ("撤销", "撤回", "删除"),
    "contact": ("联系",),
    "weather": ("天气", "天气预报", "查天气"),
    "price": ("价格", "查价格", "查价", "行情", "查行情", "价格查询"),
    "register": ("注册",),
    "ask": ("问专家", "提问", "咨询专家"),
    "reply": ("回复",),
    "bind": ("绑定",),
    "renew": ("续期", "延期"),
    "no": ("不同意", "拒绝"),
}
# Opt-out: these words anywhere, TD standing as a word, or one of a few whole-message words.
# (Three patterns rather than one alternation: one made only of literals lets the regex engine
# skip ahead to their first characters.)
_OPT_OUT_LITERALS = "退订|退定|推订|停止发送|停止推送|停发短信|拒收|取消短信|关闭短信"
_OPT_OUT_LITERAL = re.compile(_OPT_OUT_LITERALS)
# The words, or a character every phrase below opens with: one search for both, usually.
_OPT_OUT_WORDS = re.compile(f"{_OPT_OUT_LITERALS}|(?P<hint>[不别勿莫])")
_OPT_OUT_PHRASES = re.compile(
    # 再 makes it about the messages coming again: 不要再发, 别再给我推送, 别再打扰
    "(?:不要|别|不用|请勿|勿|莫)再(?:给我|跟我|向我|往我)?(?:发(?![货错])|推送|推|打扰)"
    # without 再, only when it says what: 别给我发短信, 不要发信息
    "|(?:不要|别|不用|请勿|勿)(?:给我|跟我|向我|往我)?(?:发|推送|推)(?:短信|信息|消息)"
    "|(?:不要|别|不用)(?:给我|跟我|向我|往我)?(?:发|推送)了"
    "|(?:不想|不愿意?|不再|不要)再?(?:收到?|接收|接到)(?:你们的?|这些|这种|这类|此类|任何)?(?:短信|信息|消息)"
    "|(?:不要|别)打扰"
)
_OPT_OUT_TD = re.compile(r"(?<![a-z])(?:td|tuiding)(?![a-z])")
_OPT_OUT_WHOLE = re.compile(r"(?:取消订阅|unsubscribe|stop)$")
_END = r"[\s,.。!！;；]*$"
_NUM = r"第?\s*(?P<n>\d{1,6}|[一二两三四五六七八九十]{1,3})\s*[条个号]?"
_NUM_ANY = r"第?\s*(?:\d{1,6}|[一二两三四五六七八九十]{1,3})\s*[条个号]?"  # one of several
_NUMBERS = re.compile(r"\d{1,6}|[一二两三四五六七八九十]{1,3}")
_WISH = "(?:(?:请|麻烦)?(?:帮我|给我)?(?:我)?(?:想|要|想要|需要)?)"  # 我想订阅, 请帮我订阅
_POSTING_WORDS = "(?:的|那条|这条|发布|信息|帖子|求购|出售)*"  # 撤销第2条发布


def _latin(code: str) -> str:
    """A Latin code that must not run into more Latin letters (so 'wd' is not 'w' + 'd')."""
    return rf"{code}(?![a-z])"


def _opens(alternatives: str, tail: str) -> re.Pattern[str]:
    """A command word (or Latin code) opening the message, an optional colon, then `tail`."""
    return re.compile(rf"^(?:{alternatives})\s*:?\s*{tail}")


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("help", _opens(f"{_latin('bz')}|help|帮助|菜单|使用说明|怎么用|[?？]+", f"(?:一下|下)?{_END}")),
    ("mine", _opens(f"{_latin('wd')}|我的(?:信息|发布|信箱|帖子)?|我发布的", f"(?:{_NUM})?{_END}")),
    ("code", re.compile(r"^(?P<n>\d{6})$")),
    ("no", _opens("n|no|不同意|拒绝", f"(?:{_NUM})?{_END}")),
    ("yes", _opens(f"{_latin('y')}|yes|同意|确认", f"(?:{_NUM})?{_END}")),
    ("yes", _opens("可以", f"{_NUM}{_END}")),
    ("renew", _opens(f"{_latin('xq')}|续期|延期", f"(?:{_NUM})?{_END}")),
    ("reply", _opens(f"{_latin('hf')}|回复", r"(?P<n>\d{1,6})\s*[:,]?\s*(?P<rest>.*)$")),
    (
        "cancel",
        _opens(
            f"{_latin('cx')}|{_WISH}(?:撤销|撤回|删除)",
            rf"(?P<ns>(?:{_NUM_ANY}(?:\s*[,和及与&]\s*|\s+))*{_NUM_ANY})?\s*{_POSTING_WORDS}{_END}",
        ),
    ),
    # 撤销卖苹果: a cancel without a number (the reply says how); never a new posting
    ("cancel", _opens(f"{_latin('cx')}|{_WISH}(?:撤销|撤回|删除)", r"(?P<rest>[^\d]*)$")),
    ("contact", _opens(f"{_latin('lx')}|联系", f"(?:{_NUM})?{_END}")),
    ("bind", _opens(f"{_latin('bd')}|绑定", rf"(?P<n>(?:\+?86)?1[3-9]\d{{9}})?{_END}")),
    ("weather", _opens(f"{_latin('tq')}|查天气|天气预报|天气", r"(?P<rest>[^\d]*)$")),
    ("price", _opens(f"{_latin('jg')}|查价格|价格查询|查行情|查价|价格|行情", r"(?P<rest>[^\d]*)$")),
    ("subscribe", _opens(f"{_latin('dy')}|{_WISH}(?:订阅|关注)", "(?P<rest>.*)$")),
    ("register", _opens(f"{_latin('zc')}|注册", "(?P<rest>.*)$")),
    ("ask", _opens(f"{_latin('w')}|问专家|咨询专家|提问|问(?!一下|下|问|题|个|你)", "(?P<rest>.+)$")),
)


# Any way a command can open a message: a cheap gate before trying each command's pattern.
_OPENERS = re.compile(
    r"^(?:[a-z]{1,4}(?![a-z])|\d{6}$|[?？]|帮助|菜单|使用说明|怎么用|我的|我发布的|同意|确认|可以|回复|撤销|撤回|删除"
    r"|(?:请|麻烦)?(?:帮我|给我)?我?(?:想|要|想要|需要)?(?:订阅|关注|撤销|撤回|删除)"
    r"|不同意|拒绝|续期|延期"
    r"|联系|绑定|查天气|天气|查价|价格|查行情|行情|订阅|关注|注册|问|咨询专家|提问)"
)


def command_words() -> tuple[str, ...]:
    """The Chinese command words, for the segmenter."""
    return tuple(word for words in _WORDS.values() for word in words)


def is_opt_out(text: str) -> bool:
    """True when a normalised message asks to stop all messages (退订 / TD always win)."""
    word = _OPT_OUT_WORDS.search(text)
    if word is not None and (
        word["hint"] is None
        or _OPT_OUT_PHRASES.search(text, word.start()) is not None
        or _OPT_OUT_LITERAL.search(text, word.start()) is not None
    ):
        return True
    return (
        (("td" in text or "tuiding" in text) and _OPT_OUT_TD.search(text) is not None)
        or _OPT_OUT_WHOLE.match(text) is not None
    )


def detect_command(text: str, products: Callable[[str], list[str]]) -> Command | None:
    """The command a normalised message opens with, or None.

    `products` maps free text to canonical product names, for 订阅 and 价格 arguments.
    """
    if is_opt_out(text):
        return Command("opt_out")
    if not _OPENERS.match(text):
        return implied_weather(text, products)
    for name, pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        command = _build(name, match, text, products)
        if command is not None:
            return command
    return implied_weather(text, products)


def _build(
    name: str, match: re.Match[str], text: str, products: Callable[[str], list[str]]
) -> Command | None:
    """Arguments for a matched command; None when the match is not really that command."""
    groups = match.groupdict()
    number = _number(groups.get("n"))
    rest = (groups.get("rest") or "").strip()
    if name == "help":
        return Command(name)
    if name == "cancel":
        return Command(name, _numbers(groups.get("ns")))
    if name in ("code", "contact", "bind", "mine", "yes", "no", "renew"):
        return Command(name, (number,) if number else ())
    if name == "reply":
        return Command(name, (number, rest) if rest else (number,)) if number else None
    if name == "price":
        return _price(rest, products)
    if name == "subscribe":
        if _FORECAST.search(rest) is not None and not products(rest):
            return Command("weather", ("开",))  # 订阅天气 = TQ 开: the evening forecast on
        found = products(rest)
        return Command(name, tuple(found) if found else tuple(_SUBSCRIBE_NOISE.sub(" ", rest).split()))
    if name == "register":
        return Command(name, tuple(_register_fields(text)))
    if name == "weather":
        return Command(name, _weather_args(rest))
    return Command(name, (rest,)) if rest else None


def _price(rest: str, products: Callable[[str], list[str]]) -> Command | None:
    """价格/JG with product arguments only; "价格面议" and the like are not commands."""
    if not rest:
        return Command("price")
    found = products(rest)
    return Command("price", tuple(found)) if found else None


def _numbers(text: str | None) -> tuple[str, ...]:
    """Every posting number in "3 4", "3,4", "第三条和第五条", in order, without repeats."""
    if not text:
        return ()
    found = [_number(n) for n in _NUMBERS.findall(text)]
    return tuple(dict.fromkeys(n for n in found if n))


def _number(text: str | None) -> str | None:
    """Digits of a posting/match number, reading Chinese numerals (撤销三 → "3")."""
    if not text:
        return None
    if text.isdigit():
        return text
    from farmer_mailbox.text.numbers import parse_amount

    amount = parse_amount(text)
    return str(int(amount[0])) if amount else None


_REGISTER = re.compile(r"^(?:zc(?![a-z])|注册)\s*:?\s*(?P<rest>.*)$", re.DOTALL)
_ID_NUMBER = re.compile(r"\d{17}[\dx]")
_WEATHER_NOISE = re.compile(
    r"怎么样|咋样|如何|好不好|会不会|下不下|有没有|会下雨|下雨|天晴|预报|情况|查询|查一下|查下|查|看一下|看下|看看"
    r"|帮我|给我|帮忙|请|一下|吗|呢|[?？。,!！]"
)
_WHEN = re.compile(r"今天|明天|后天|大后天|这几天|最近|未来|近期|本周|下周|一周|七天|三天|周末|今晚|明早")


def _register_fields(text: str) -> list[str]:
    """Fields after 注册/ZC split on whitespace or commas; an ID number's x is upper-cased."""
    match = _REGISTER.match(text)
    rest = match["rest"] if match else ""
    return [f.upper() if _ID_NUMBER.fullmatch(f) else f for f in rest.replace(",", " ").split()]


def _weather_args(rest: str) -> tuple[str, ...]:
    """Place words after 天气 (question and time words dropped)."""
    return tuple(_WHEN.sub(" ", _WEATHER_NOISE.sub(" ", rest)).split())


def implied_weather(text: str, products: Callable[[str], list[str]]) -> Command | None:
    """"明天天气怎么样", "明天下雨吗" without a command word: a weather request when no product
    is named (a rain word must come in a question: "今天下雨了" is news, not a request)."""
    if len(text) > 24:
        return None
    at = text.find("天气")
    sky = _SKY.search(text) if at < 0 or "气温" in text else None
    if sky is not None and at >= 0 and not sky.start() <= at + 1 <= sky.end():
        sky = None  # 天气 and a sky word apart: the 天气 reading below
    if (at < 0 and sky is None) or _DIGIT.search(text) is not None:
        return None
    if sky is None:
        if products(text):
            return None
        before, _, after = text.partition("天气")
        return Command("weather", _weather_args(_WHEN.sub(" ", before) + " " + after))
    if sky is None or _ASKS.search(text) is None or products(text):
        return None
    rest = _WHEN.sub(" ", text[: sky.start()] + " " + text[sky.end() :])
    return Command("weather", _weather_args(_RAIN_NOISE.sub(" ", rest)))


_SKY = re.compile(
    "下不下雨|下不下雪|下雨|下雪|下不下|有雨|有雪|有没有雨|降雨|降温|刮风|大风|台风|冰雹|霜冻|打霜|气温|温度|晴天|阴天|天晴|多云|暴雨|寒潮|雷阵雨"
)
_ASKS = re.compile(r"吗|(?<!什)么|\?|？|会不会|下不下|有没有|是否|没有$|多少|几度")
_DIGIT = re.compile(r"\d")
_RAIN_NOISE = re.compile("多少度|多少|几度|会|要|有|了|不|没|吗|呢|啊")
_FORECAST = re.compile("天气|预报")
_SUBSCRIBE_NOISE = re.compile("的|信息|消息|行情|价格|动态|通知")
