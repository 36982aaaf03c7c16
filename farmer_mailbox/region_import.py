"""Loading region files into the store, in batches, with a progress bar on long files."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from farmer_mailbox.models import Region
from farmer_mailbox.regions import RegionTree, count_lines, open_region_file, read_region_rows
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


def _check_parents(batch: list[Region], known: set[str]) -> None:
    for region in batch:
        if region.parent and region.parent not in known:
            raise RegionImportError(
                f"region {region.code} {region.name}: parent {region.parent} is not loaded; "
                "import the parent level first"
            )
        known.add(region.code)


async def import_region_file(store: Store, path: Path, progress: TextIO | None = sys.stderr) -> int:
    """Load one region CSV (optionally .gz) into the store; return the number of regions."""
    total = count_lines(path)
    known = {r.code for r in await store.all_regions()}
    loaded = 0
    with open_region_file(path) as fh, tqdm(
        total=total, desc=path.name, unit="rows", file=progress, disable=progress is None, leave=True
    ) as bar:
        try:
            for batch in _batches(read_region_rows(fh, str(path)), BATCH):
                _check_parents(batch, known)
                async with store.transaction() as tx:
                    await tx.upsert_regions(batch)
                loaded += len(batch)
                bar.update(len(batch))
        except ValueError as exc:
            raise RegionImportError(str(exc)) from None
    return loaded


async def import_region_files(store: Store, paths: Iterable[Path], progress: TextIO | None = sys.stderr) -> int:
    """Load several region files in order; return the total number of regions."""
    total = 0
    for path in paths:
        total += await import_region_file(store, path, progress)
    return total


async def load_tree(store: Store) -> RegionTree:
    """Build the in-memory region tree from the store."""
    return RegionTree(await store.all_regions())
