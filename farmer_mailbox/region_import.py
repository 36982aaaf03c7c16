"""Loading region files into the store, in batches, with a progress bar on long files."""

from __future__ import annotations

import csv
import gzip
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from farmer_mailbox.models import Region
from farmer_mailbox.regions import RegionFileError, RegionTree, count_lines, read_region_rows
from farmer_mailbox.store import Store

BATCH = 5000


class RegionImportError(ValueError):
    """A region file that cannot be loaded (bad row, or a parent that does not exist)."""


def _batches(regions: Iterable[Region], size: int) -> Iterable[list[Region]]:
    batch: list[Region] = []
    for region in regions:
        batch.append(region)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_parent(region: Region, known: set[str]) -> None:
    if region.parent and region.parent not in known:
        raise RegionImportError(
            f"region {region.code} {region.name}: parent {region.parent} is not loaded; "
            "import the parent level first"
        )
    known.add(region.code)


def _check_parents(batch: list[Region], known: set[str]) -> None:
    for region in batch:
        _check_parent(region, known)


class _Lines:
    """The lines of a region file as UTF-8 text (a BOM dropped), counted as they are read, so an
    error names its line (text decoding and csv's own count work a block ahead or a line behind)."""

    def __init__(self, raw: Iterable[bytes], source: str) -> None:
        self.raw, self.source, self.number = raw, source, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.number += 1
            try:
                yield line.decode("utf-8-sig" if self.number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise RegionFileError(f"{self.source} line {self.number}: not UTF-8 text "
                                      f"(byte 0x{line[exc.start]:02x}); save it as UTF-8") from None


def regions_of(path: Path) -> Iterator[Region]:
    """The regions in one file; RegionImportError naming the file and line when it cannot be read
    (not UTF-8, not CSV, a bad row, a broken gzip file)."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as raw:
            lines = _Lines(raw, str(path))
            try:
                yield from read_region_rows(lines, str(path))
            except csv.Error as exc:   # a NUL byte, a field past the CSV limit
                raise RegionFileError(f"{path} line {lines.number}: not readable as CSV ({exc})") from None
    except RegionFileError as exc:
        raise RegionImportError(str(exc)) from None
    except (OSError, EOFError, zlib.error) as exc:   # no such file, a directory, a truncated or fake .gz
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RegionImportError(f"{path}: cannot read it ({reason})") from None


def check_region_files(paths: Iterable[Path], known: set[str]) -> None:
    """Read every file through without writing: each row readable, each parent loaded already or
    earlier in the files. A file with a bad row at line 7000 thus loads nothing, not 5000 rows."""
    for path in paths:
        for region in regions_of(path):
            _check_parent(region, known)


async def import_region_file(store: Store, path: Path, progress: TextIO | None = sys.stderr) -> int:
    """Load one region CSV (optionally .gz) into the store; return the number of regions."""
    total = count_lines(path)
    known = {r.code for r in await store.all_regions()}
    loaded = 0
    with tqdm(total=total, desc=path.name, unit="rows", file=progress, disable=progress is None, leave=True) as bar:
        for batch in _batches(regions_of(path), BATCH):
            _check_parents(batch, known)
            async with store.transaction() as tx:
                await tx.upsert_regions(batch)
            loaded += len(batch)
            bar.update(len(batch))
    return loaded


async def import_region_files(store: Store, paths: Iterable[Path], progress: TextIO | None = sys.stderr,
                              *, check: bool = True) -> int:
    """Load several region files in order; return the total number of regions.

    With `check` (operators' files) every file is read through first and nothing is written when
    any row is bad; the packaged files are known good and load in one pass.
    """
    paths = list(paths)
    if check:
        check_region_files(paths, {r.code for r in await store.all_regions()})
    total = 0
    for path in paths:
        total += await import_region_file(store, path, progress)
    return total


async def load_tree(store: Store) -> RegionTree:
    """Build the in-memory region tree from the store."""
    return RegionTree(await store.all_regions())
