"""Who gets an alert: region subtrees × products followed × roles, fanned out in SQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from farmer_mailbox.alerts.model import Status
from farmer_mailbox.alerts.targeting import identity_expander, lexicon_expander
from farmer_mailbox.models import Role
from farmer_mailbox.validation import ValidationError
from tests.alerts.conftest import (
    DASHAN,
    GUANHAIWEI,
    HENGHE,
    LONGSHAN,
    SHANXIA,
    WEIDONG,
    YANGGAO,
    ZHANJIANG_VILLAGE,
    ZHOUXIANG_VILLAGE,
    ZILING,
    Rig,
    pest_draft,
)


async def test_three_towns_times_rice_times_farmers(rig: Rig) -> None:
    rice_longshan = await rig.user(YANGGAO, ["水稻"])
    grapes_longshan = await rig.user(SHANXIA, ["葡萄"])
    rice_henghe = await rig.user(ZILING, ["水稻", "葡萄"])
    rice_officer = await rig.user(WEIDONG, ["水稻"], role="officer", county="330282")
    rice_elsewhere = await rig.user(ZHOUXIANG_VILLAGE, ["水稻"])
    rice_far = await rig.user(ZHANJIANG_VILLAGE, ["水稻"])
    alert, preview = await rig.alerts.create(
        rig.officer, pest_draft(["龙山镇", "横河镇", "观海卫镇"], roles=(Role.FARMER,)))
    assert preview.recipients == 2 and alert.recipients == 2
    await rig.deliver()
    assert sorted(rig.received()) == sorted([rice_longshan.phone, rice_henghe.phone])
    assert {grapes_longshan.phone, rice_officer.phone, rice_elsewhere.phone, rice_far.phone}.isdisjoint(
        rig.received())


async def test_without_crops_everyone_in_the_regions_and_roles(rig: Rig) -> None:
    farmers = [await rig.user(v, interests) for v, interests in
               ((YANGGAO, ["水稻"]), (SHANXIA, []), (DASHAN, ["葡萄"]))]
    outside = await rig.user(ZHOUXIANG_VILLAGE)
    await rig.alerts.create(rig.officer, pest_draft([LONGSHAN, HENGHE], crops=()))
    await rig.deliver()
    assert sorted(rig.received()) == sorted(f.phone for f in farmers)
    assert outside.phone not in rig.received()


async def test_roles_filter_and_default_to_everyone(rig: Rig) -> None:
    farmer = await rig.user(YANGGAO, ["水稻"])
    officer = await rig.user(SHANXIA, ["水稻"], role="officer", county="330282")
    only_officers, _ = await rig.alerts.create(rig.officer, pest_draft(roles=(Role.OFFICER,)))
    everyone, _ = await rig.alerts.create(rig.officer, pest_draft())
    assert (only_officers.recipients, everyone.recipients) == (1, 2)
    await rig.deliver()
    assert sorted(rig.received()) == sorted([officer.phone, officer.phone, farmer.phone])


async def test_nested_regions_count_each_person_once(rig: Rig) -> None:
    await rig.user(YANGGAO, ["水稻"])
    alert, preview = await rig.alerts.create(rig.officer, pest_draft([LONGSHAN, YANGGAO, "龙山镇"]))
    assert alert.target.regions == (LONGSHAN.ljust(12, "0"),)
    assert preview.recipients == 1
    await rig.deliver()
    assert len(rig.received()) == 1


async def test_opted_out_and_suspended_users_get_nothing(rig: Rig) -> None:
    active = await rig.user(YANGGAO, ["水稻"])
    gone = await rig.user(SHANXIA, ["水稻"])
    await rig.services.accounts.update(rig.operator, gone.phone, status="opted_out")
    alert, _ = await rig.alerts.create(rig.officer, pest_draft())
    assert alert.recipients == 1
    await rig.deliver()
    assert rig.received() == [active.phone]


async def test_fan_out_twice_adds_nothing(rig: Rig) -> None:
    await rig.user(YANGGAO, ["水稻"])
    alert, _ = await rig.alerts.create(rig.officer, pest_draft())
    assert await rig.fanout.run_due() == 1
    assert await rig.fanout.fan_out(alert.id) == 0
    assert await rig.fanout.run_due() == 0
    await rig.deliver()
    assert len(rig.received()) == 1


async def test_unknown_places_and_crops_are_refused_with_the_word(rig: Rig) -> None:
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.preview(rig.officer, pest_draft(["火星镇"]))
    assert caught.value.code == "alert.region_unknown" and "火星镇" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        await rig.alerts.preview(rig.officer, pest_draft([]))
    assert caught.value.code == "alert.regions"


async def test_category_targets_expand_through_the_injected_expander(rig: Rig) -> None:
    grapes = await rig.user(YANGGAO, ["葡萄"])
    await rig.user(SHANXIA, ["水稻"])
    rig.alerts.expander = lambda word: frozenset({"葡萄", "柑橘"}) if word == "水果" else frozenset()
    alert, _ = await rig.alerts.create(rig.officer, pest_draft(crops=("水果",)))
    assert alert.target.products == ("柑橘", "葡萄") and alert.status is Status.SCHEDULED
    await rig.deliver()
    assert rig.received() == [grapes.phone]
    with pytest.raises(ValidationError, match="火星果"):
        await rig.alerts.preview(rig.officer, pest_draft(crops=("火星果",)))


async def test_short_town_names_resolve_near_the_officer(rig: Rig) -> None:
    await rig.user(WEIDONG, ["水稻"])
    preview = await rig.alerts.preview(rig.officer, pest_draft(["观海卫"]))
    assert preview.recipients == 1
    assert [t.code for t in preview.by_town] == [GUANHAIWEI]


@dataclass(frozen=True)
class FakeProduct:
    name: str
    category: str
    parent: str | None = None


class FakeLexicon:
    """The shape of farmer_mailbox.text.lexicon.Lexicon that the expander relies on."""

    def __init__(self) -> None:
        self._products = [FakeProduct("粮食", "粮油"), FakeProduct("稻谷", "粮油", "粮食"),
                          FakeProduct("糯稻", "粮油", "稻谷"), FakeProduct("小麦", "粮油", "粮食"),
                          FakeProduct("葡萄", "水果"), FakeProduct("巨峰葡萄", "水果", "葡萄")]
        self._words = {"水稻": "稻谷", "稻谷": "稻谷", "葡萄": "葡萄", "粮食": "粮食"}

    def products(self) -> list[FakeProduct]:
        return self._products

    def lookup(self, word: str) -> FakeProduct | None:
        name = self._words.get(word)
        return next(p for p in self._products if p.name == name) if name else None


def test_the_lexicon_expander_maps_words_categories_and_families() -> None:
    expand = lexicon_expander(FakeLexicon())
    assert expand("水稻") == {"稻谷", "糯稻"}                       # synonym to canonical, with its varieties
    assert expand("粮食") == {"粮食", "稻谷", "糯稻", "小麦"}
    assert expand("水果") == {"葡萄", "巨峰葡萄"}                   # a category: all its products
    assert expand("火星果") == frozenset()
    assert identity_expander(" 水稻 ") == {"水稻"} and identity_expander(" ") == frozenset()
