"""Every user-facing Chinese string, in one place to review, translate and keep within budget.

Outbound messages are templates: a key, a text with named `{fields}`, and a segment budget that
counts the SMS signature too (70 characters for one segment, 67 per segment after). Template-only
providers map the same keys to their approved template ids. `samples` hold the longest values a
field realistically takes; a test renders every template with them and checks the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from string import Formatter


@dataclass(frozen=True, slots=True)
class Template:
    """One outbound message kind."""

    key: str
    text: str
    segments: int = 1
    samples: Mapping[str, str] = field(default_factory=dict)
    urgent: bool = False
    secret: tuple[str, ...] = ()   # params the message record shows as ****** (one-time codes)


def _t(key: str, text: str, segments: int = 1, **samples: str) -> Template:
    return Template(key=key, text=text, segments=segments, samples=samples)


_ALL = [
    # --- help and unknown text -------------------------------------------------------------
    _t("help", "发“卖/买+产品+数量+价格”登记供求,如:卖土鸡蛋300斤1块5一斤。回WD查看,TD退订,W+问题问专家。"),
    _t("unknown", "没看懂您的短信。登记供求请发“卖/买+产品+数量”,如:买葡萄苗2000株。回BZ看帮助。"),
    _t("unregistered", "您的手机号尚未登记。请带身份证到本村联络点实名登记后再发短信。"),
    _t("suspended", "您的账号已暂停,信息未发布。如有疑问请联系本村联络点。"),
    _t("opted_out", "已退订农民信箱短信。如需恢复,请联系本村联络点。"),
    _t("not_staff", "只有村联络员可以用短信注册用户。"),
    # --- registration by SMS (注册 name id phone village) ---------------------------------------
    _t("register_ok", "已注册:{name} {phone_masked} {village},编号{user_id}。", name="欧阳娜仁托娅",
       phone_masked="139****5678", village="周塘西村委会", user_id="2400000"),
    _t("register_failed", "注册未成功:{reason}", reason="身份证号已登记:330282********1234(编号2400000)"),
    _t("register_usage", "注册格式:注册 姓名 身份证号 手机号 村名,用空格隔开。"),
    _t("welcome", "{name}您好,您已在农民信箱实名登记。发“卖/买+产品+数量”登记供求,回BZ看帮助。",
       name="欧阳娜仁托娅"),
]

# --- alerts and forecasts (issue 6; farmer_mailbox/alerts) ------------------------------------
# Budgets count the billed signature 【农民信箱】 (6 characters): one segment leaves 64 characters,
# two leave 128. Bounded fields have limits in farmer_mailbox/alerts/texts.py; the free-text field
# of each template (detail, advice, content) gets what is left and is checked at creation.
_ALL += [
    # weather warning, 2 segments: the official sender, event and colour, then its text cut to fit.
    # Samples: the longest county's 气象台 and the longest Chinese event name in QWeather's table.
    _t("weather_warning", "{sender}发布{event}{colour}预警:{detail}", 2,
       sender="积石山保安族东乡族撒拉族自治县气象台", event="中小河流洪水和山洪气象风险", colour="橙色",
       detail="预计未来6小时内积石山县大部地区将出现大到暴雨,局地伴有短时强降水和雷暴大风,请及时转移低洼地带人员,"
              "加固温室大棚,疏通田间沟渠,注意出行安全,密切关注后续预警信息,做好防范工作…"),
    # an official update of a warning some already got (更新/升级): one message per user, saying so.
    _t("weather_update", "{sender}更新{event}{colour}预警:{detail}", 2,
       sender="积石山保安族东乡族撒拉族自治县气象台", event="中小河流洪水和山洪气象风险", colour="红色",
       detail="预计未来6小时内积石山县大部地区将出现大到暴雨,局地伴有短时强降水和雷暴大风,请及时转移低洼地带人员,"
              "加固温室大棚,疏通田间沟渠,注意出行安全,密切关注后续预警信息,做好防范工作…"),
    # a warning lifted, 1 segment.
    _t("weather_lifted", "{sender}已于{time}解除{event}{colour}预警。", 1,
       sender="积石山保安族东乡族撒拉族自治县气象台", time="12月24日15时", event="中小河流洪水和山洪气象风险",
       colour="橙色"),
    # pest and disease alert, 2 segments: area, crop, pest, stage, deadline, advice, office.
    _t("pest_alert", "植保提醒:{area}{crop}{pest}{stage},请于{when}前{advice}。{office}", 2,
       area="龙山镇、横河镇、观海卫镇", crop="水稻", pest="南方水稻黑条矮缩病", stage="进入防治适期",
       when="12月31日", office="鄂尔多斯市伊金霍洛旗农牧局",
       advice="选用吡蚜酮、烯啶虫胺等药剂对准稻丛基部喷雾,田间保持浅水层,施药后7天内不要排水,用药时注意个人防护,"
              "不在桑园鱼塘附近施药,防止发生药害事故"),
    # market information and bureau notices, 2 segments: bounded free text and the office.
    _t("market_notice", "市场信息:{content}({office})", 2, office="鄂尔多斯市伊金霍洛旗农牧局",
       content="本周慈溪市蔬菜批发均价每斤1.85元,比上周涨6%,其中西兰花、芹菜涨幅较大,请种植户合理安排采收上市,"
               "避免集中抛售;生猪出栏均价每斤7.2元,与上周持平,请养殖户合理安排出栏,不要压栏惜售,理性应对市场行情的波动。"),
    _t("bureau_notice", "通知:{content}({office})", 2, office="鄂尔多斯市伊金霍洛旗农牧局",
       content="2026年早稻种植补贴申报已开始,请种植面积10亩以上的农户于5月20日前带身份证、土地承包合同和银行卡到"
               "所在镇农业综合服务中心申报,逾期不再受理,详情请咨询本村联络员或镇农办,感谢大家的理解、配合和大力支持,特此通知!"),
    # next-day forecast, 1 segment (TQ reply and the opt-in evening digest).
    _t("forecast", "明天{place}:{weather},{temp}℃{rain}。", 1, place="伊金霍洛旗乌兰木伦镇",
       weather="雷阵雨伴冰雹", temp="-12~-3", rain=",降水概率100%"),
    _t("forecast_unavailable", "暂时查不到{place}明天的天气预报,请稍后再试。", 1, place="伊金霍洛旗乌兰木伦镇"),
    _t("forecast_on", "已开通每日天气预报:每天{time}发送明天{place}的天气。", 1, time="18:00",
       place="伊金霍洛旗乌兰木伦镇"),
    _t("forecast_off", "已停止发送每日天气预报。", 1),
    # to every admin when an alert is held over a bureau's monthly budget, 1 segment ({kind}: ALERT_WORDS).
    _t("alert_held", "{kind}{id}号({area},约{cost}元)超出本月预算,需管理员确认后才发送。", 1,
       kind="红色预警", id="1234567", area="积石山保安族东乡族撒拉等4地", cost="1200000"),
    # reply to DY (follow products): the products now followed.
    _t("interests_followed", "已关注:{products}。有相关植保、天气和市场信息会短信告诉您。", 1,
       products="水稻、葡萄、草莓、西瓜、茶叶、柑橘、生猪"),
]
# Fragments the alerts put into those templates' parameters (farmer_mailbox/alerts): colours,
# dates, the rain chance, how a target and its bureau are named, and the kind of a held alert.
ALERT_WORDS: dict[str, str] = {
    "colour.blue": "蓝色", "colour.yellow": "黄色", "colour.orange": "橙色", "colour.red": "红色",
    "date": "{month}月{day}日",                      # pest_alert {when}: the suggested deadline
    "date_hour": "{month}月{day}日{hour}时",          # weather_lifted {time}
    "rain": ",降水概率{pop}%",                        # forecast {rain}
    "area_join": "、",                               # 龙山镇、横河镇
    "area_more": "等{n}地",                           # 龙山镇等4地
    "office": "{name}农业农村局", "office_province": "{name}农业农村厅", "office_local": "本地",
    "place_local": "本地",                            # forecast {place} for a village with no town
    "sender_fallback": "气象台",                      # a warning feed that names no sender
    "cut": "…",                                      # ends a feed's text cut to fit the budget
    "kind.weather": "{colour}预警", "kind.pest": "植保提醒", "kind.market": "市场信息", "kind.notice": "通知",
    # the action named in the 'alert.state' error (staff)
    "action.confirm": "确认", "action.approve": "批准", "action.discard": "放弃", "action.cancel": "取消",
}

# --- marketplace (issue 5; farmer_mailbox/market) ---------------------------------------------
# Budgets count the billed signature too: a match list may take two segments, everything else one.
# {what} is a posting in a few words (market/texts.py); lists are filled to fit by fit_list.
_ALL += [
    _t("posted", "{what}已登记(编号{id}),{days}天有效。有匹配时会短信告诉您。", 1,
       what="出售优质葡萄苗50000株3.5元/株", id="1234567", days="30"),
    _t("posted_matches", "{what}已登记(编号{id})。匹配{count}条:{items}。回LX+序号取联系方式", 2,
       what="求购优质葡萄苗50000株3.5元/株以内", id="1234567", count="20+",
       items="1.横河镇子陵村 葡萄苗5000株3元/株;2.龙山镇杨高村 葡萄苗2000株2.8元/株等8条"),
    _t("posted_many", "已登记{count}条:{items}。回WD查看匹配。", 1, count="3",
       items="编号1234567出售葡萄苗;编号1234568出售葡萄等1条"),
    _t("posting_held", "信息已收到(编号{id}),因{reason},需联络员审核后发布。", 1, id="1234567",
       reason="含其他电话号码"),
    _t("posting_hidden", "您的信息(编号{id})已被联络员下架。如有疑问请联系本村联络点。", 1, id="1234567"),
    _t("posting_no_product", "没看出您要买卖什么,请写明产品和数量,如:卖土鸡蛋300斤。", 1),
    _t("match_notice", "有人{what}({place}),回LX{n}取联系方式,回HF{n}+内容留言。", 1,
       what="求购葡萄苗50000株3.5元/株以内", place="横河镇子陵村", n="1234"),
    _t("match_digest", "您还有{count}条新匹配未逐条发送,回WD查看。", 1, count="1000"),
    _t("mine_list", "您的信息:{items}。回WD+编号看匹配,CX+编号撤销。", 1,
       items="1234567求购葡萄苗2000株(50+条匹配)等3条"),
    _t("mine_empty", "您目前没有登记中的信息。发“卖/买+产品+数量”即可登记。", 1),
    _t("mine_matches", "编号{id}的匹配:{items}。回LX+序号取联系方式", 2, id="1234567",
       items="12.横河镇子陵村 葡萄苗5000株3元/株;13.龙山镇杨高村 葡萄苗2000株2.8元/株等8条"),
    _t("mine_no_matches", "编号{id}暂无匹配,有了会短信告诉您。", 1, id="1234567"),
    _t("posting_not_found", "没有找到您的编号{id}信息,回WD查看。", 1, id="1234567"),
    _t("cancel_usage", "撤销请回CX加编号,如CX12。回WD查看编号。", 1),
    _t("cancelled", "已撤销编号{id}:{what}。", 1, id="1234567", what="出售优质葡萄苗50000株3.5元/株"),
    _t("cancelled_many", "已撤销{ids}。{missing}", 1, ids="编号1234567、1234568、1234569",
       missing="没有找到编号1234570、1234571,回WD查看。"),
    _t("renewed", "已续期{ids}至{date}。", 1, ids="编号1234567、1234568、1234569", date="12月31日"),
    _t("renew_none", "您没有可续期的信息,回WD查看。", 1),
    _t("expiry_reminder", "您的{what}(编号{id}){date}到期,回XQ{id}续期{days}天。", 1,
       what="出售葡萄苗50000株3.5元/株", id="1234567", date="12月31日", days="30"),
    _t("ref_unknown", "没有序号{n}的匹配,回WD查看。", 1, n="1234"),
    _t("ref_usage", "请回LX加序号,如LX1;留言请回HF+序号+内容。", 1),
    _t("contact_shared", "{name}({place})电话{phone},{what}。请当面验货,谨慎交易。", 1,
       name="欧阳娜仁托娅", place="横河镇子陵村", phone="13912345678", what="出售葡萄苗5000株3元/株"),
    _t("contact_asked", "已请对方同意,同意后把电话发给您。也可回HF{n}+内容留言。", 1, n="1234"),
    _t("contact_request", "有人想联系您({what},{place}),回Y{n}同意交换电话,回N{n}拒绝。", 1,
       what="求购葡萄苗2000株", place="横河镇子陵村", n="1234"),
    _t("contact_pending", "已在等对方同意,同意后会把电话发给您。", 1),
    _t("contact_declined", "对方暂不方便留电话,可回HF{n}+内容留言。", 1, n="1234"),
    _t("contact_decline_ok", "已拒绝,不会把您的电话给对方。", 1),
    _t("contact_none_pending", "没有等您同意的联系请求。", 1),
    _t("contact_unavailable", "对方暂时无法联系。", 1),
    # a relayed message is clipped to one segment (market/texts.py clip); the sender is told
    _t("relay", "序号{n}对方留言:{message}(回HF{n}+内容回复)", 1, n="1234",
       message="明天上午十点我开三轮车过来看苗,麻烦您在村口小店等我一下,价格可以再…"),
    _t("relay_sent", "留言已转给对方。", 1),
    _t("relay_clipped", "留言太长,只转给对方前{kept}个字。", 1, kept="40"),
    _t("relay_refused", "留言不能带网址或别人的电话号码,请改后再发。", 1),
    _t("ref_closed", "序号{n}的信息已撤销或过期,不能再联系。回WD看其他匹配。", 1, n="1234"),
    _t("posted_capped", "已登记前{count}条:{items}。每条短信最多{count}种产品,其余请另发。", 1, count="5",
       items="编号1234567出售鸡蛋;编号1234568出售鸭蛋等3条"),
    _t("price_report", "{product}近{days}天:{parts}。", 1, product="葡萄苗", days="30",
       parts="本县卖价3.5元/株(12条)买价3元/株(4条);本市卖价3.2元/株(120条)"),
    _t("price_none", "近{days}天本市没有{product}的报价。", 1, days="30", product="葡萄苗"),
    _t("price_usage", "查价格请发JG+产品,如JG葡萄苗。", 1),
    _t("query_results", "{product}现有:{items}。发“买{product}+数量”登记后可取联系方式。", 2, product="葡萄苗",
       items="横河镇子陵村 出售葡萄苗5000株3元/株;龙山镇杨高村 出售葡萄苗2000株2.8元/株等8条"),
    _t("query_none", "暂时没有{product}的信息。发“买/卖{product}+数量”登记,有了会告诉您。", 1, product="葡萄苗"),
    _t("ask_recorded", "您的问题已记录(编号{id})。专家答复后会短信告诉您,急事请找本村联络员。", 1, id="1234567"),
    _t("subscribe_usage", "关注品种请发DY+品种,如:DY 水稻 葡萄。", 1),
    _t("bind_in_wechat", "绑定微信请在公众号里发“绑定+手机号”。", 1),
]

# --- marketplace fragments (issue 5; farmer_mailbox/market) -----------------------------------
# Pieces the market builds replies from (a posting in a few words, list items, price reports,
# hold reasons shown in posting_held, dates). They land in the templates above, whose budgets are
# tested with samples built from them.
MARKET_FRAGMENTS: dict[str, str] = {
    "side.sell": "出售",
    "side.buy": "求购",
    "price.negotiable": "价格面议",
    "price.ceiling": "{price}以内",          # a buyer's maximum: 4元/株以内
    "price.range": "{low}-{high}",            # 2-3元/斤 (the unit follows)
    "list.sep": ";",
    "list.more": "等{n}条",
    "list.more_plus": "等{n}+条",
    "ellipsis": "…",
    "ref.posting": "编号{id}",
    "ref.postings": "{count}条信息",
    "ref.sep": "、",
    "cancel.missing": "没有找到编号{ids},回WD查看。",
    "mine.pending": "待审核",
    "mine.matches": "{count}条匹配",
    "count.plus": "{n}+",
    "area.county": "本县",
    "area.city": "本市",
    "price.asked": "卖价",
    "price.offered": "买价",
    "price.count": "({count}条)",
    "date": "{month}月{day}日",
    "hold.url": "含网址",
    "hold.phone": "含其他电话号码",
    "hold.flagged": "账号需审核",
    # shown to staff (posting states, reasons stored with a posting)
    "status.pending": "待审核",
    "status.open": "已发布",
    "status.cancelled": "已撤销",
    "status.expired": "已过期",
    "status.hidden": "已下架",
    "action.approve": "审核通过",
    "action.hide": "下架",
    "reason.cancelled": "撤销",
    "reason.hidden": "联络员下架",
}


def fragment(key: str, **params: object) -> str:
    """A market fragment with its fields filled (a missing one raises KeyError)."""
    return MARKET_FRAGMENTS[key].format_map(params)


# --- WeChat Official Account (issue 7; farmer_mailbox/wechat) ---------------------------------
# bind_code goes by SMS (1 segment with the signature). The others answer in WeChat, where no
# segments are billed; their budgets are kept to SMS sizes anyway so they read well on a phone.
_ALL += [
    Template("bind_code", "农民信箱微信绑定验证码{code},{minutes}分钟内有效。如非本人操作请忽略,切勿告诉他人。", 1,
             samples={"code": "123456", "minutes": "10"}, secret=("code",)),
    _t("wechat_welcome", "欢迎关注农民信箱!已实名登记的农户请发“绑定 手机号”,如:绑定 13912345678,"
                         "验证码会短信发到您的手机。还没登记的请带身份证到本村联络点登记。", 2),
    _t("wechat_welcome_back", "欢迎回来!本微信已绑定{phone_masked},发“卖/买+产品+数量”登记供求,回BZ看帮助。", 1,
       phone_masked="139****5678"),
    _t("wechat_unbound", "请先绑定实名账号:发“绑定 手机号”,如:绑定 13912345678。还没登记的请带身份证到本村联络点登记。",
       1),
    _t("wechat_bind_usage", "请发“绑定”加上您登记的手机号,如:绑定 13912345678。", 1),
    _t("wechat_code_sent", "如{phone_masked}已在农民信箱实名登记,验证码已短信发出,"
                           "请在{minutes}分钟内把6位验证码发到这里。", 1, phone_masked="139****5678", minutes="10"),
    _t("wechat_code_wait", "验证码刚发过,请{seconds}秒后再试。", 1, seconds="60"),
    _t("wechat_code_wrong", "验证码不对,还可以再试{left}次。", 1, left="4"),
    _t("wechat_code_expired", "验证码已过期或没有申请,请重新发“绑定 手机号”。", 1),
    _t("wechat_locked", "验证码错误次数太多,绑定已锁定,请{minutes}分钟后再试。", 1, minutes="60"),
    _t("wechat_bound", "绑定成功!本微信已绑定{name}({phone_masked}),消息和短信一样处理。发BZ看帮助,发“解绑”可解除。", 1,
       name="欧阳娜仁托娅", phone_masked="139****5678"),
    _t("wechat_already_bound", "本微信已绑定{phone_masked}。如要换绑,请先发“解绑”。", 1, phone_masked="139****5678"),
    _t("wechat_unbind_ok", "已解除本微信与{phone_masked}的绑定,短信照常收发。", 1, phone_masked="139****5678"),
    _t("wechat_text_only", "暂时只能看懂文字消息,请用文字发送。发BZ看帮助。", 1),
]

# --- per-phone limits on binding codes (issue 7; farmer_mailbox/wechat/limits.py) -------------
# Answers in WeChat; the same for registered and unregistered phones.
_ALL += [
    _t("wechat_code_phone_limit", "这个手机号收到的验证码太多了,为防骚扰,请{wait}后再试。", 1, wait="23小时"),
]

TEMPLATES: dict[str, Template] = {t.key: t for t in _ALL}


def render(key: str, params: Mapping[str, str], channel: str = "sms") -> str:
    """Render a template with its named parameters (a missing one raises KeyError)."""
    return text_of(key, channel).format_map(dict(params))


def render_for_record(key: str, params: Mapping[str, str], channel: str = "sms") -> str:
    """Render a template as the message record keeps it: secret params (codes) masked."""
    secret = TEMPLATES[key].secret
    if not secret:
        return render(key, params, channel)
    return render(key, {k: "******" if k in secret else v for k, v in params.items()}, channel)


# Reasons shown to staff (CLI, API, SMS registration replies). Keep each short: an SMS reply
# carries one after "注册未成功:".
ERRORS: dict[str, str] = {
    "id.length": "身份证号应为18位",
    "id.format": "身份证号只能是数字,最后一位可为X",
    "id.birth_date": "身份证号里的出生日期不对",
    "id.region": "身份证号前6位不是有效地区码",
    "id.checksum": "身份证号校验位不对,请核对",
    "phone.format": "手机号格式不对",
    "phone.country": "只能登记中国大陆手机号",
    "phone.not_mobile": "请填写11位手机号",
    "phone.invalid": "手机号号段不存在,请核对",
    "name.invalid": "姓名应为2到20个汉字,少数民族姓名用·隔开",
    "village.unknown": "找不到这个村,请写全称",
    "village.ambiguous": "村名有重名,请加上镇名",
    "village.not_village": "“{name}”是{level}名,请写到村(社区)",
    "scope.village": "该村不在您的联络点范围内",
    "scope.county": "该地区不在您负责的县内",
    "scope.role": "您没有这项权限",
    "role.invalid": "角色应为farmer、liaison、officer或admin",
    "duplicate.id": "身份证号已登记:{masked}(编号{user_id})",
    "duplicate.phone": "手机号已登记:{masked}(编号{user_id})",
    "duplicate.in_file": "与本文件第{line}行的身份证号或手机号重复",
    "csv.extra_values": "这一行的值比表头的列多:值里有逗号时请加引号",
    "liaison.point": "联络员需指定联络点",
    "officer.county": "农业局人员需指定所属县",
    "user.not_found": "找不到这个用户",
    "posting.not_found": "找不到这条供求信息",
    "posting.state": "这条信息现在是“{status}”状态,不能{action}",
}

# --- alerts (issue 6) ------------------------------------------------------------------------
ERRORS.update({
    "alert.not_found": "找不到这条预警信息",
    "alert.state": "这条信息现在是“{status}”状态,不能{action}",
    "alert.kind": "信息类别应为weather、pest、market或notice",
    "alert.severity": "天气预警须注明颜色:blue、yellow、orange或red",
    "alert.template": "“{kind}”类信息不能用模板{template}",
    "alert.params": "模板{template}缺少参数:{missing}",
    "alert.params_unknown": "模板{template}没有参数:{unknown}",
    "alert.field_too_long": "“{field}”最多{limit}字,现在{length}字",
    "alert.too_long": "短信超长:最多{budget}条({chars}字含签名),现在{length}字;请把“{field}”缩短{over}字",
    "alert.regions": "请指定发送范围(镇、县或村)",
    "alert.region_unknown": "找不到地区“{name}”",
    "alert.region_ambiguous": "地区“{name}”有重名:{candidates},请写全称或代码",
    "alert.roles": "接收角色应为farmer、liaison、officer或admin",
    "alert.crop_unknown": "不认识品种“{name}”,请用常见名称(如水稻、葡萄)或类别(如蔬菜)",
    "alert.time": "时间格式不对:{text}(如 07:00、2026-07-08 07:00 或 now)",
    "alert.past": "发送时间已过:{when}",
    "alert.expiry": "过期时间须晚于发送时间",
    "alert.too_far": "发送时间太远:{when}(最多提前{days}天)",
    "alert.expiry_far": "过期时间太远:最多在发送后{days}天",
    "alert.empty": "没有符合条件的接收人",
})

# --- the outbox and its channels (issues 4 and 7; farmer_mailbox/outbox.py) -------------------
# Replies whose SMS text promises "短信告诉您" read wrong in WeChat, where the follow-up may come
# by WeChat (inside the 48-hour window) or by SMS (outside it): their WeChat wording names no
# channel. Same fields as the SMS text (a test checks it); `render(..., channel=...)` picks them.
CHANNEL_TEXTS: dict[tuple[str, str], str] = {
    ("unknown", "wechat"): "没看懂您的消息。登记供求请发“卖/买+产品+数量”,如:买葡萄苗2000株。回BZ看帮助。",
    ("posted", "wechat"): "{what}已登记(编号{id}),{days}天有效。有匹配时会通知您。",
    ("mine_no_matches", "wechat"): "编号{id}暂无匹配,有了会通知您。",
    ("interests_followed", "wechat"): "已关注:{products}。有相关植保、天气和市场信息会通知您。",
    ("ask_recorded", "wechat"): "您的问题已记录(编号{id})。专家答复后会通知您,急事请找本村联络员。",
}


def text_of(key: str, channel: str = "sms") -> str:
    """The template text for a channel: its channel wording when it has one, else the SMS text."""
    return CHANNEL_TEXTS.get((key, channel)) or TEMPLATES[key].text


def template_fields(key: str, channel: str = "sms") -> frozenset[str]:
    """The `{fields}` a template's text uses (what its params must provide)."""
    return _fields(text_of(key, channel))


@lru_cache(maxsize=1024)
def _fields(text: str) -> frozenset[str]:
    """The `{fields}` of a text, parsed once per text (every queued message checks its template's)."""
    return frozenset(name for _, name, _, _ in Formatter().parse(text) if name)
