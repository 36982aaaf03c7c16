"""Fixtures: the real app (create_app) over a fresh region database, behind an aiohttp test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox.app import create_app
from farmer_mailbox.regions import RegionTree
from tests.web.rig import ENV, AppClient, MakeClient, web_config


@pytest.fixture
async def make_client(db_path: Path, region_tree: RegionTree) -> AsyncIterator[MakeClient]:
    """Start the app (workers on or off) and return a test client; everything stops at teardown."""
    clients: list[AppClient] = []

    async def make(workers: bool = False) -> AppClient:
        client: AppClient = TestClient(TestServer(create_app(web_config(db_path), env=ENV, workers=workers,
                                                       tree=region_tree)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    """The app without background workers: what a request did is all there is to see."""
    return await make_client()

