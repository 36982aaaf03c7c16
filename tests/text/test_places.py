"""Places: a mention keeps its suffix, and pieces that contradict each other are not trusted."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from farmer_mailbox.text import Location, parse

# 杨高村 lies in 龙山镇, not in 横河镇; codes are 12 digits as in the region tree.
_TREE = {
    "慈溪市": ("330282000000", "county"),
    "慈溪": ("330282000000", "county"),
    "横河镇": ("330282114000", "town"),
    "横河": ("330282114000", "town"),
    "龙山镇": ("330282123000", "town"),
    "龙山": ("330282123000", "town"),
    "杨高村": ("330282123222", "village"),
    "龙山镇杨高村": ("330282123222", "village"),
}


class Tree:
    """Resolves names (and 龙山镇杨高村 as a whole) the way the region tree does."""

    def known_names(self) -> Iterable[str]:
        return list(_TREE)

    def resolve(self, mention: str, home_code: str | None) -> Location | None:
        found = _TREE.get(mention)
        return Location(mention, found[0], mention, found[1]) if found else None


def place(text: str) -> Location | None:
    (posting,) = parse(text, places=Tree(), home_code="330282").postings
    return posting.location


@pytest.mark.parametrize("text", ["卖葡萄苗 在慈溪市横河镇杨高村", "卖葡萄苗 横河镇杨高村"])
def test_pieces_that_contradict_each_other_are_ambiguous(text: str) -> None:
    location = place(text)
    assert location is not None
    assert (location.code, location.ambiguous) == (None, True)


@pytest.mark.parametrize("text", ["卖葡萄苗 慈溪市龙山镇杨高村", "卖葡萄苗 龙山镇杨高村", "卖葡萄苗 杨高村"])
def test_pieces_that_agree_resolve_to_the_finest(text: str) -> None:
    location = place(text)
    assert location is not None and (location.code, location.level) == ("330282123222", "village")


def test_a_village_is_never_read_as_the_town_of_the_same_stem() -> None:
    location = place("卖樱桃 横河村")
    assert location == Location("横河村")  # unknown village: its text only, not 横河镇


@pytest.mark.parametrize("text", ["谁知道哪里有卖种鸡的", "本人常年供应鸡蛋 每天500斤 价格随行就市"])
def test_words_that_only_end_like_places_are_none(text: str) -> None:
    assert all(p.location is None for p in parse(text).postings)


def test_the_town_itself_still_resolves() -> None:
    for text in ("卖樱桃 横河镇", "出售樱桃 300斤 横河"):
        location = place(text)
        assert location is not None and location.code == "330282114000"
