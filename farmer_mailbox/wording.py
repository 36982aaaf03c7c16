"""Every user-facing Chinese string, in one place to review, translate and keep within budget.

Outbound messages are templates: a key, a text with named `{fields}`, and a segment budget that
counts the SMS signature too (70 characters for one segment, 67 per segment after). Template-only
providers map the same keys to their approved template ids. `samples` hold the longest values a
field realistically takes; a test renders every template with them and checks the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Template:
    """One outbound message kind."""

    key: str
    text: str
    segments: int = 1
    samples: Mapping[str, str] = field(default_factory=dict)
    urgent: bool = False


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

TEMPLATES: dict[str, Template] = {t.key: t for t in _ALL}


def render(key: str, params: Mapping[str, str]) -> str:
    """Render a template with its named parameters (a missing one raises KeyError)."""
    return TEMPLATES[key].text.format_map(dict(params))


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
    "name.invalid": "姓名应为2到20个字,不含数字",
    "village.unknown": "找不到这个村,请写全称",
    "village.ambiguous": "村名有重名,请加上镇名",
    "village.not_village": "请填写到村(社区)",
    "scope.village": "该村不在您的联络点范围内",
    "scope.county": "该地区不在您负责的县内",
    "scope.role": "您没有这项权限",
    "role.invalid": "角色应为farmer、liaison、officer或admin",
    "duplicate.id": "身份证号已登记:{masked}(编号{user_id})",
    "duplicate.phone": "手机号已登记:{masked}(编号{user_id})",
    "duplicate.in_file": "与本文件第{line}行的身份证号或手机号重复",
    "liaison.point": "联络员需指定联络点",
    "officer.county": "农业局人员需指定所属县",
    "user.not_found": "找不到这个用户",
}
