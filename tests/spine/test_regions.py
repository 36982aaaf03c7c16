"""The region tree: shipped data, short names, free-text resolution, file import."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from farmer_mailbox.models import Level, Region
from farmer_mailbox.regions import (
    RegionFileError,
    RegionTree,
    level_of,
    normalise_code,
    open_region_file,
    packaged_region_files,
    read_region_rows,
    short_name,
)
from farmer_mailbox.services import Services
from tests.helpers import YANGGAO, ZILING


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    regions: list[Region] = []
    for path in packaged_region_files():
        with open_region_file(path) as fh:
            regions.extend(read_region_rows(fh, str(path)))
    return RegionTree(regions)


def test_shipped_data_covers_china_to_township_and_villages_of_two_counties(tree: RegionTree) -> None:
    levels = Counter(r.level for r in tree.regions())
    assert levels[Level.PROVINCE] == 31
    assert levels[Level.TOWN] > 40_000
    villages = [r.code for r in tree.regions() if r.level is Level.VILLAGE]
    assert all(level_of(c) is Level.VILLAGE for c in villages)
    cixi = [c for c in villages if c.startswith("330282")]
    haibowan = [c for c in villages if c.startswith("150302")]
    assert len(cixi) == 406 and len(haibowan) == 43


@pytest.mark.parametrize(("name", "level", "short"), [
    ("横河镇", Level.TOWN, "横河"), ("宗汉街道", Level.TOWN, "宗汉"), ("杨高村委会", Level.VILLAGE, "杨高村"),
    ("马家路居委会", Level.VILLAGE, "马家路"), ("慈溪市", Level.COUNTY, "慈溪"), ("浙江省", Level.PROVINCE, "浙江"),
    ("城区", Level.COUNTY, "城区"),
])
def test_short_names_drop_the_administrative_suffix(name: str, level: Level, short: str) -> None:
    assert short_name(name, level) == short


@pytest.mark.parametrize(("mention", "home", "code"), [
    ("杨高村", None, YANGGAO),
    ("杨高", YANGGAO, YANGGAO),
    ("慈溪横河镇", None, "330282114000"),
    ("慈溪市横河镇", None, "330282114000"),
    ("慈溪龙山杨高村", None, YANGGAO),
    ("横河", YANGGAO, "330282114000"),
    ("横河镇", ZILING, "330282114000"),
    ("浙江", None, "330000000000"),
    ("北京", None, "110000000000"),
])
def test_place_names_resolve(tree: RegionTree, mention: str, home: str | None, code: str) -> None:
    result = tree.resolve(mention, home)
    assert result.region is not None and result.region.code == code


def test_ambiguous_across_counties_is_said_not_guessed(tree: RegionTree) -> None:
    result = tree.resolve("横河")
    assert result.region is None and result.ambiguous
    assert {r.code[:6] for r in result.candidates} >= {"330282", "140522", "441322"}
    assert tree.resolve("朝阳区").ambiguous


def test_unknown_names_resolve_to_nothing(tree: RegionTree) -> None:
    result = tree.resolve("火星村")
    assert result.region is None and not result.ambiguous


def test_display_names_an_sms_sized_place(tree: RegionTree) -> None:
    assert tree.display(YANGGAO) == "龙山镇杨高村"
    assert tree.display(YANGGAO, Level.COUNTY) == "慈溪市龙山镇杨高村"


def test_codes_normalise_to_twelve_digits() -> None:
    assert normalise_code("330282") == ("330282000000", Level.COUNTY)
    assert normalise_code("330282114") == ("330282114000", Level.TOWN)
    with pytest.raises(ValueError):
        normalise_code("3302821")


def test_generic_region_files_and_bad_rows_name_the_line() -> None:
    good = io.StringIO("code,name,parent\n330282114299,新村,330282114\n")
    (region,) = read_region_rows(good)
    assert region.parent == "330282114000" and region.level is Level.VILLAGE
    with pytest.raises(RegionFileError, match="line 3"):
        list(read_region_rows(io.StringIO("code,name\n33,浙江省\nabc,坏\n")))
    with pytest.raises(RegionFileError, match="header"):
        list(read_region_rows(io.StringIO("x,y\n1,2\n")))


async def test_region_tree_comes_back_from_the_database(services: Services) -> None:
    assert len(services.tree) > 48_000
    assert services.tree.get(YANGGAO) is not None
