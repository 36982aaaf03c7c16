"""Shared fixtures: a migrated database with the packaged regions, built once and copied per test."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from farmer_mailbox.clock import ManualClock
from farmer_mailbox.region_import import load_tree
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.services import Services, ensure_regions, open_services
from farmer_mailbox.store import SqliteStore
from tests.helpers import TEST_ENV, make_config


@pytest.fixture(scope="session")
def region_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every migration and the packaged regions (built once)."""
    path = tmp_path_factory.mktemp("template") / "regions.db"

    async def build() -> None:
        store = await SqliteStore.open(path)
        await store.migrate()
        await ensure_regions(store)
        await store.close()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def region_tree(region_db_template: Path) -> RegionTree:
    """The region tree of the template database (immutable, shared by tests)."""

    async def load() -> RegionTree:
        store = await SqliteStore.open(region_db_template)
        try:
            return await load_tree(store)
        finally:
            await store.close()

    return asyncio.run(load())


@pytest.fixture
def db_path(tmp_path: Path, region_db_template: Path) -> Path:
    """A fresh copy of the region database for one test."""
    target = tmp_path / "test.db"
    shutil.copy(region_db_template, target)
    return target


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
async def services(db_path: Path, clock: ManualClock, region_tree: RegionTree) -> AsyncIterator[Services]:
    """Services on a fresh region database with a test ID key."""
    svc = await open_services(make_config(db_path), clock, TEST_ENV, tree=region_tree)
    yield svc
    await svc.close()


@pytest.fixture
def cli_db(tmp_path: Path, region_db_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo population on a copy of the region database, as the CLI's configured database."""
    from farmer_mailbox.cli import main

    db = tmp_path / "cli.db"
    shutil.copy(region_db_template, db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FARMER_MAILBOX_SERVICE_DATABASE", str(db))
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    assert main(["demo"]) == 0
    return db
