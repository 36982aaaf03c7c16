"""A small demo population in 慈溪市 (Zhejiang): staff, a liaison point, and farmers.

Loaded by `serve` in demo mode and by tests that want realistic people. Idempotent: nothing is
added when users exist. Phone numbers are in the 139-0000 block; ID numbers carry valid check
digits but belong to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from farmer_mailbox.accounts import Accounts, RegistrationForm
from farmer_mailbox.models import Channel
from farmer_mailbox.validation import id_check_digit

CIXI = "330282"
LONGSHAN_VILLAGES = ("330282123222", "330282123201")  # 杨高村, 山下村 (龙山镇)
HENGHE_VILLAGES = ("330282114201", "330282114202")    # 子陵村, 大山村 (横河镇)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One demo account."""

    name: str
    phone: str
    village: str
    role: str = "farmer"
    birth: str = "19700101"
    interests: tuple[str, ...] = ()


STAFF = (
    DemoPerson("王建国", "13900000001", "330282123222", "admin", "19750315"),
    DemoPerson("李明", "13900000002", "330282114201", "officer", "19800620"),
    DemoPerson("杨丽", "13900000003", "330282123222", "liaison", "19850812"),
    DemoPerson("孙海燕", "13900000004", "330282114201", "liaison", "19881103"),
)
FARMERS = (
    DemoPerson("杨德福", "13900000011", "330282123222", birth="19620405", interests=("葡萄", "葡萄苗")),
    DemoPerson("陈阿毛", "13900000012", "330282114201", birth="19681122", interests=("葡萄苗",)),
    DemoPerson("胡秀英", "13900000013", "330282114202", birth="19700918", interests=("鸡蛋", "土鸡")),
    DemoPerson("徐国庆", "13900000014", "330282123201", birth="19711001", interests=("稻谷", "玉米")),
    DemoPerson("沈桂芳", "13900000015", "330282123201", birth="19650227", interests=("杨梅",)),
    DemoPerson("马永强", "13900000016", "330282114202", birth="19790506", interests=("仔猪", "玉米")),
)


def demo_id(person: DemoPerson, serial: int) -> str:
    """A well-formed ID number for a demo person (region 慈溪, their birth date, a serial)."""
    first17 = f"{CIXI}{person.birth}{serial:03d}"
    return first17 + id_check_digit(first17)


async def load_demo(accounts: Accounts) -> int:
    """Register the demo population as the operator; return how many users were added."""
    if await accounts.store.count_users() > 0:
        return 0
    operator = await accounts.actor_for(None, Channel.CLI)
    await accounts.create_liaison_point(operator, "龙山镇杨高村联络点", list(LONGSHAN_VILLAGES))
    await accounts.create_liaison_point(operator, "横河镇子陵村联络点", list(HENGHE_VILLAGES))
    points = {"13900000003": "龙山镇杨高村联络点", "13900000004": "横河镇子陵村联络点"}
    added = 0
    for serial, person in enumerate(STAFF + FARMERS, start=101):
        form = RegistrationForm(
            name=person.name, id_number=demo_id(person, serial), phone=person.phone,
            village=person.village, role=person.role, interests=person.interests,
            liaison_point=points.get(person.phone, ""), county=CIXI if person.role == "officer" else "",
        )
        await accounts.register(operator, form)
        added += 1
    return added
