"""CSV import: bad rows reported by line and reason, good rows imported whole, a summary."""

from __future__ import annotations

import pytest

from farmer_mailbox.demo import load_demo
from farmer_mailbox.models import Channel
from farmer_mailbox.scoping import Actor
from farmer_mailbox.services import Services
from farmer_mailbox.user_import import CsvFormatError, import_users
from tests.helpers import valid_id


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
