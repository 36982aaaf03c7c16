"""Real-name registration in the service layer: validation, scoping, uniqueness, masking, export."""

from __future__ import annotations

import pytest

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.demo import load_demo
from farmer_mailbox.models import Channel, Role, UserStatus
from farmer_mailbox.scoping import Actor
from farmer_mailbox.services import Services
from farmer_mailbox.validation import ValidationError
from tests.helpers import DASHAN, SHANXIA, YANGGAO, ZHANJIANG_VILLAGE, ZILING, valid_id


async def actor(services: Services, phone: str | None, channel: Channel = Channel.CLI) -> Actor:
    user = await services.accounts.find(phone) if phone else None
    return await services.accounts.actor_for(user, channel)


def form(village: str = "杨高村", serial: int = 500, phone: str = "13700000500", role: str = "farmer",
         **extra: str) -> RegistrationForm:
    return RegistrationForm(name="张三", id_number=valid_id(serial=serial), phone=phone, village=village,
                            role=role, **extra)


@pytest.fixture
async def demo(services: Services) -> Services:
    await load_demo(services.accounts)
    return services


async def test_liaison_registers_in_their_villages_only(demo: Services) -> None:
    liaison = await actor(demo, "13900000003")  # 杨丽, 龙山镇杨高村联络点 (杨高村, 山下村)
    user = await demo.accounts.register(liaison, form())
    assert user.village_code == YANGGAO and user.registered_by == liaison.user_id
    await demo.accounts.register(liaison, form(village=SHANXIA, serial=501, phone="13700000501"))
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(liaison, form(village=ZILING, serial=502, phone="13700000502"))
    assert info.value.code == "scope.village"


async def test_liaison_cannot_register_staff(demo: Services) -> None:
    liaison = await actor(demo, "13900000003")
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(liaison, form(role="liaison", liaison_point="龙山镇杨高村联络点"))
    assert info.value.code == "scope.role"


async def test_officer_registers_within_their_county(demo: Services) -> None:
    officer = await actor(demo, "13900000002")  # 慈溪市 officer
    await demo.accounts.register(officer, form(village=DASHAN))
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(officer, form(village=ZHANJIANG_VILLAGE, serial=503, phone="13700000503"))
    assert info.value.code == "scope.county"
    liaison = await demo.accounts.register(officer, form(
        village=ZILING, serial=504, phone="13700000504", role="liaison", liaison_point="横河镇子陵村联络点"))
    assert liaison.role is Role.LIAISON
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(officer, form(serial=505, phone="13700000505", role="officer", county="330282"))
    assert info.value.code == "scope.role"


async def test_farmers_cannot_register_anyone(demo: Services) -> None:
    farmer = await actor(demo, "13900000011")
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(farmer, form())
    assert info.value.code == "scope.role"


async def test_one_account_per_id_number_and_per_phone(demo: Services) -> None:
    operator = await actor(demo, None)
    first = await demo.accounts.register(operator, form())
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(operator, form(phone="13700000999"))
    assert info.value.code == "duplicate.id"
    assert "张* 137****0500" in info.value.message and f"编号{first.id}" in info.value.message
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(operator, form(serial=777))
    assert info.value.code == "duplicate.phone"


@pytest.mark.parametrize(("village", "code"), [
    ("火星村", "village.unknown"), ("慈溪横河镇", "village.not_village"), ("330282114000", "village.not_village"),
    ("999999999999", "village.unknown"),
])
async def test_village_must_resolve_to_one_village(demo: Services, village: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(await actor(demo, None), form(village=village))
    assert info.value.code == code


async def test_ambiguous_village_names_are_refused(demo: Services) -> None:
    # 新村 exists in many towns; the operator has no home county to prefer.
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(await actor(demo, None), form(village="新村"))
    assert info.value.code in ("village.ambiguous", "village.unknown")


async def test_views_mask_the_id_always_and_phones_for_non_staff(demo: Services) -> None:
    operator = await actor(demo, None)
    user = await demo.accounts.register(operator, form())
    staff_view = demo.accounts.view(await actor(demo, "13900000003"), user)
    farmer_view = demo.accounts.view(await actor(demo, "13900000011"), user)
    raw = valid_id(serial=500)
    assert staff_view["id_number"] == raw[:6] + "********" + raw[-4:]
    assert staff_view["phone"] == "13700000500"
    assert farmer_view["phone"] == "137****0500"
    assert raw not in str(staff_view) + str(farmer_view)


async def test_edits_are_scoped_and_recorded(demo: Services) -> None:
    liaison = await actor(demo, "13900000003")
    user = await demo.accounts.update(liaison, "13900000011", status="suspended", flagged=True)
    assert user.status is UserStatus.SUSPENDED and user.flagged
    with pytest.raises(ValidationError) as info:
        await demo.accounts.update(liaison, "13900000012", status="suspended")  # 子陵村, not theirs
    assert info.value.code == "scope.village"
    entries = await demo.store.record_for_user(user.id)
    assert entries[0].text == "update" and '"status": "suspended"' in entries[0].detail


async def test_unmasked_export_is_admin_only_and_recorded(demo: Services) -> None:
    with pytest.raises(ValidationError):
        await demo.accounts.export_unmasked(await actor(demo, "13900000002"), "audit")
    admin = await actor(demo, "13900000001")
    rows = await demo.accounts.export_unmasked(admin, "县局年度核查")
    assert len(rows) == 10 and all(len(str(r["id_number"])) == 18 for r in rows)
    (entry,) = await demo.store.record_tail(1)
    assert entry.text == "export_unmasked" and "县局年度核查" in entry.detail and entry.user_id == admin.user_id


async def test_interests_are_stored_per_user(demo: Services) -> None:
    user = await demo.accounts.find("13900000011")
    assert user.interests == ("葡萄", "葡萄苗")


@pytest.mark.parametrize(("village", "by", "message"), [
    ("横河镇", None, "“横河镇”是镇(街道)名,请写到村(社区)"),                  # three 横河镇 in China, no village
    ("横河镇", "13900000003", "“横河镇”是镇(街道)名,请写到村(社区)"),         # one near the liaison
    ("330282114000", None, "“横河镇”是镇(街道)名,请写到村(社区)"),
    ("慈溪市", None, "“慈溪市”是县(区)名,请写到村(社区)"),
])
async def test_a_town_or_county_is_named_as_such_not_as_an_ambiguous_village(
        demo: Services, village: str, by: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        await demo.accounts.register(await actor(demo, by), form(village=village))
    assert (info.value.code, info.value.message) == ("village.not_village", message)


def test_every_registration_refusal_fits_one_sms_with_the_signature() -> None:
    from farmer_mailbox import wording

    longest = {"masked": "欧阳** 139****5678", "user_id": "2400000", "line": "100000",
               "name": "内蒙古自治区鄂尔多斯市伊金", "level": "县(区)或镇(街道)"}
    for code, text in wording.ERRORS.items():
        if code.split(".")[0] in ("alert", "posting"):
            continue
        reply = wording.render("register_failed", {"reason": text.format(**longest)})
        assert len("【农民信箱】" + reply) <= 70, (code, reply)
