"""`farmer-mailbox regions import` with files an operator might have at hand: one clear line, nothing half-loaded."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from farmer_mailbox.cli import main
from farmer_mailbox.region_import import RegionImportError, regions_of
from farmer_mailbox.store import SqliteStore

HEADER = "code,name,parent\n"
TOWN = "330282123000"   # 龙山镇
SAVE = "save it as UTF-8"


@pytest.fixture
def region_db(tmp_path: Path, region_db_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the region database as the configured one."""
    db = tmp_path / "regions.db"
    shutil.copy(region_db_template, db)
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(db))
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DEMO", "true")
    return db


def region_count(db: Path) -> int:
    async def count() -> int:
        store = await SqliteStore.open(db)
        try:
            return await store.region_count()
        finally:
            await store.close()

    return asyncio.run(count())


def villages(first: int, n: int) -> str:
    """n new villages of 龙山镇, numbered from `first`."""
    return "".join(f"330282123{first + i:03d},新{first + i}村,{TOWN}\n" for i in range(n))


@pytest.mark.parametrize(("name", "data", "message"), [
    ("gbk.csv", (HEADER + villages(900, 1)).encode("gbk"), "{path} line 2: not UTF-8 text (byte 0xd0); " + SAVE),
    ("utf-16.csv", HEADER.encode("utf-16"), "{path} line 1: not UTF-8 text (byte 0xff); " + SAVE),
    ("binary.csv", bytes(range(256)) * 4, "{path}: expected a header with at least code,name"),
    ("huge.csv", (HEADER + '330282123901,"' + "村" * 200_000 + '",' + TOWN + "\n").encode(),
     "{path} line 2: not readable as CSV (field larger than field limit (131072))"),
    ("short.csv", (HEADER + "330282123902\n").encode(), "{path} line 2: empty name"),
    ("fake.csv.gz", b"not gzip at all", "{path}: cannot read it (Not a gzipped file (b'no'))"),
    ("cut.csv.gz", gzip.compress((HEADER + villages(900, 50)).encode())[:60],
     "{path}: cannot read it (Compressed file ended before the end-of-stream marker was reached)"),
], ids=["gbk", "utf-16", "binary", "huge-field", "short-row", "fake-gzip", "cut-gzip"])
def test_a_region_file_that_cannot_be_read_is_one_line(region_db: Path, tmp_path: Path, name: str, data: bytes,
                                                       message: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    before = region_count(region_db)
    assert main(["regions", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == "region import failed: " + message.format(path=path) + "\n"
    assert region_count(region_db) == before


def test_a_bad_row_far_into_a_file_loads_nothing_of_it(region_db: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + villages(100, 10), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "".join(f"330282123{i:03d},新{i}村,{TOWN}\n" for i in range(200, 900)) * 8
                   + "330282123999,坏村,330282999000\n", encoding="utf-8")   # past the first batch of 5000
    before = region_count(region_db)
    assert main(["regions", "import", str(good), str(bad)]) == 1
    assert "parent 330282999000 is not loaded" in capsys.readouterr().err
    assert region_count(region_db) == before            # not good.csv, not 5000 rows of bad.csv
    assert main(["regions", "import", str(good)]) == 0
    assert region_count(region_db) == before + 10


CODES = st.from_regex(r"\A\d{0,13}\Z")


def encoded(text: str) -> bytes:
    """UTF-8, lone surrogates too (so the file holds bytes no UTF-8 decoder accepts)."""
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300),
                 st.text(max_size=300).map(lambda t: encoded(HEADER + t)),
                 st.lists(st.tuples(CODES, st.text(max_size=8), CODES), max_size=5).map(
                     lambda rows: encoded(HEADER + "".join(f"{c},{n},{p}\n" for c, n, p in rows)))),
       st.booleans())
def test_any_region_file_is_read_as_regions_or_refused_with_a_region_import_error(data: bytes, gz: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("r.csv.gz" if gz else "r.csv")
        path.write_bytes(gzip.compress(data) if gz and data[:1] != b"x" else data)
        try:
            for region in regions_of(path):
                assert len(region.code) == 12 and region.code.isdigit() and region.name.strip()
        except RegionImportError as exc:
            assert str(exc).startswith((str(path), "region ")) or "line" in str(exc)
