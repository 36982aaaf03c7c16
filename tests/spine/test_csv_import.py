"""CSV import: bad rows reported by line and reason, good rows imported whole, a summary."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from farmer_mailbox import wording
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.demo import load_demo
from farmer_mailbox.models import Channel
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.scoping import Actor
from farmer_mailbox.services import Services, open_services
from farmer_mailbox.user_import import CsvFormatError, import_users
from tests.helpers import TEST_ENV, make_config, valid_id


def csv_lines(*rows: str, header: str = "name,id_number,phone,village,interests") -> list[str]:
    return [header + "\n", *(r + "\n" for r in rows)]


@pytest.fixture
async def liaison(services: Services) -> Actor:
    await load_demo(services.accounts)
    user = await services.accounts.find("13900000003")
    return await services.accounts.actor_for(user, Channel.CLI)


async def test_good_rows_go_in_and_each_bad_row_is_reported(services: Services, liaison: Actor) -> None:
    lines = csv_lines(
        f"张三,{valid_id(serial=1)},13700000001,杨高村,葡萄;水稻",            # line 2 ok
        f"李四,{valid_id(serial=2)},1370000000,杨高村,",                    # line 3 bad phone
        "王五,330282198001011234,13700000003,杨高村,",                     # line 4 bad checksum
        f"赵六,{valid_id(serial=4)},13700000004,子陵村,",                   # line 5 out of scope
        f"钱七,{valid_id(serial=1)},13700000005,山下村,",                   # line 6 same ID as line 2
        "",                                                                  # blank line skipped
        f"孙八,{valid_id(serial=6)},13900000011,山下村,",                   # line 8 phone registered
        f"周九,{valid_id(serial=7)},13700000007,山下村,玉米",              # line 9 ok
    )
    report = await import_users(services.accounts, liaison, lines)
    assert report.imported == 2 and report.rows == 7
    assert [(e.line, e.code) for e in report.errors] == [
        (3, "phone.not_mobile"), (4, "id.checksum"), (5, "scope.village"), (6, "duplicate.in_file"),
        (8, "duplicate.phone")]
    assert "第2行" in report.errors[3].message
    assert report.summary() == "imported 2 of 7 rows, 5 refused"
    # 水稻 is stored under its canonical name 稻谷
    assert (await services.accounts.find("13700000001")).interests == ("稻谷", "葡萄")
    assert (await services.accounts.find("13700000007")).registered_by == liaison.user_id


async def test_chinese_headers_are_understood(services: Services, liaison: Actor) -> None:
    lines = csv_lines(f"张三,{valid_id(serial=9)},13700000009,杨高村", header="姓名,身份证号,手机号,村名")
    report = await import_users(services.accounts, liaison, lines)
    assert report.imported == 1 and not report.errors


async def test_a_file_without_the_needed_columns_is_refused_whole(services: Services, liaison: Actor) -> None:
    with pytest.raises(CsvFormatError, match="missing column"):
        await import_users(services.accounts, liaison, csv_lines("x,y", header="name,phone"))
    with pytest.raises(CsvFormatError, match="empty"):
        await import_users(services.accounts, liaison, [])
    assert await services.store.count_users() == 10


async def test_every_imported_user_has_its_record_entry(services: Services, liaison: Actor) -> None:
    rows = [f"张{'一二三四五六七八九十'[i % 10]}{'甲乙丙'[i // 10]},{valid_id(serial=100 + i)},137000001{i:02d},杨高村"
            for i in range(30)]
    report = await import_users(services.accounts, liaison, csv_lines(*rows, header="name,id_number,phone,village"))
    assert report.imported == 30
    tail = await services.store.record_tail(30)
    assert all(e.text == "register" for e in tail)


async def test_an_officer_imports_within_their_county_only(services: Services) -> None:
    await load_demo(services.accounts)
    officer = await services.accounts.actor_for(await services.accounts.find("13900000002"), Channel.CLI)  # 慈溪
    lines = csv_lines(
        f"张三,{valid_id(serial=11)},13700000011,子陵村,,farmer,,",                       # line 2 ok (慈溪)
        f"李四,{valid_id(serial=12)},13700000012,440802001002,,farmer,,",                # line 3 another city
        f"王五,{valid_id(serial=13)},13700000013,大山村,,liaison,横河镇子陵村联络点,",     # line 4 ok: a liaison
        f"赵六,{valid_id(serial=14)},13700000014,杨高村,,officer,,330282",               # line 5 an officer: no
        f"钱七,{valid_id(serial=15)},13700000015,杨高村,,admin,,",                       # line 6 an admin: no
        header="name,id_number,phone,village,interests,role,liaison_point,county")
    report = await import_users(services.accounts, officer, lines)
    assert [(e.line, e.code) for e in report.errors] == [(3, "scope.county"), (5, "scope.role"), (6, "scope.role")]
    assert report.imported == 2
    assert (await services.accounts.find("13700000013")).registered_by == officer.user_id
    for phone in ("13700000012", "13700000014", "13700000015"):
        assert await services.store.user_by_phone(phone) is None


# --- files made by hand or by a hostile spreadsheet -------------------------------------------

async def test_a_column_named_twice_is_refused_whole(services: Services, liaison: Actor) -> None:
    lines = csv_lines(f"张三,李四,{valid_id(serial=21)},13700000021,杨高村", header="姓名,name,身份证号,手机号,村名")
    with pytest.raises(CsvFormatError, match="column\\(s\\) named more than once: name"):   # was: 李四, silently
        await import_users(services.accounts, liaison, lines)
    assert await services.store.user_by_phone("13700000021") is None


async def test_a_row_with_more_values_than_columns_is_refused_not_cut(services: Services, liaison: Actor) -> None:
    lines = csv_lines(
        f"张三,{valid_id(serial=22)},13700000022,杨高村,葡萄,苹果",   # an unquoted comma: 苹果 was dropped
        f"李四,{valid_id(serial=23)},13700000023,杨高村,\"葡萄,苹果\",,",   # quoted; empty trailing values are fine
    )
    report = await import_users(services.accounts, liaison, lines)
    assert [(e.line, e.code) for e in report.errors] == [(2, "csv.extra_values")]
    assert report.imported == 1 and report.rows == 2
    assert (await services.accounts.find("13700000023")).interests == ("苹果", "葡萄")


async def test_columns_that_are_none_of_ours_are_reported(services: Services, liaison: Actor) -> None:
    lines = csv_lines(f"张三,{valid_id(serial=24)},13700000024,杨高村,葡萄,x",
                      header="name,id_number,phone,village,interest,备注")
    report = await import_users(services.accounts, liaison, lines)
    assert report.imported == 1 and report.ignored == ["interest", "备注"]


async def test_a_semicolon_file_gets_a_hint(services: Services, liaison: Actor) -> None:
    with pytest.raises(CsvFormatError, match="the file seems separated by ';', not commas"):
        await import_users(services.accounts, liaison, csv_lines("a;b;c;d", header="name;id_number;phone;village"))


@pytest.mark.parametrize("point", ["9" * 25, "²", "١"])
async def test_a_liaison_point_number_that_cannot_be_one_is_a_refused_row(services: Services, point: str) -> None:
    await load_demo(services.accounts)
    operator = await services.accounts.actor_for(None, Channel.CLI)
    lines = csv_lines(f"张三,{valid_id(serial=25)},13700000025,杨高村,liaison,{point}",
                      header="name,id_number,phone,village,role,liaison_point")
    report = await import_users(services.accounts, operator, lines)   # OverflowError, ValueError, point 1
    assert [(e.line, e.code) for e in report.errors] == [(2, "liaison.point")]


def _import_as_operator(db: Path, tree: RegionTree, text: str) -> None:
    """Import `text` as the operator on a fresh copy of the demo database; check the report adds up."""

    async def run() -> None:
        services = await open_services(make_config(db), ManualClock(), TEST_ENV, tree=tree)
        try:
            await load_demo(services.accounts)
            operator = await services.accounts.actor_for(None, Channel.CLI)
            try:
                report = await import_users(services.accounts, operator, text.splitlines(keepends=True))
            except CsvFormatError:
                return
            assert report.rows == report.imported + len(report.errors)
            assert all(e.line >= 2 and e.code in wording.ERRORS for e in report.errors)
            assert await services.store.count_users() == 10 + report.imported
        finally:
            await services.close()

    asyncio.run(run())


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["张三丰", "欧阳娜仁托娅", valid_id(serial=31), valid_id(serial=32), "13700000031", "13700000032",
                     "杨高村", "330282123222", "龙山镇", "liaison", "officer", "admin", "330282", "龙山镇杨高村联络点",
                     "1", "9" * 25, "²", "葡萄,苹果", "", " ", '"', "\x00"]),
)
_HEADERS = st.lists(st.sampled_from(["name", "姓名", "id_number", "身份证号", "phone", "手机", "village", "村", "role",
                                     "interests", "liaison_point", "county", "备注", "", "\ufeffname"]), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_HEADERS, st.lists(st.lists(_CELLS, max_size=9), max_size=4))
def test_any_csv_is_imported_row_by_row_or_refused_whole(region_db_template: Path, region_tree: RegionTree,
                                                         tmp_path_factory: pytest.TempPathFactory,
                                                         header: list[str], rows: list[list[str]]) -> None:
    db = tmp_path_factory.mktemp("csv") / "import.db"
    shutil.copy(region_db_template, db)
    _import_as_operator(db, region_tree, _csv_text([header, *rows]))


_GOOD = {"name": "张三丰", "id_number": valid_id(serial=33), "phone": "13700000033", "village": "杨高村",
         "role": "liaison", "interests": "葡萄", "liaison_point": "龙山镇杨高村联络点", "county": ""}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(_GOOD)), st.one_of(st.text(max_size=30), st.sampled_from(
    ["9" * 25, "9" * 5000, "²", "١", "-1", "0", "1", " 2 ", "0" * 30 + "1", "330282" * 3, "１３７００００００３３"])))
def test_any_value_in_any_column_of_a_good_row_is_imported_or_refused(region_db_template: Path,
                                                                      region_tree: RegionTree,
                                                                      tmp_path_factory: pytest.TempPathFactory,
                                                                      column: str, value: str) -> None:
    db = tmp_path_factory.mktemp("csv") / "import.db"
    shutil.copy(region_db_template, db)
    row = [value if c == column else v for c, v in _GOOD.items()]
    _import_as_operator(db, region_tree, _csv_text([list(_GOOD), row]))
