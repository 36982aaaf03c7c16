"""Fixtures for the service-level WeChat tests: `start(**options)` opens the whole app."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from farmer_mailbox.clock import ManualClock
from farmer_mailbox.regions import RegionTree
from tests.wechat.service_rig import WechatRig, wechat_service

Start = Callable[..., AbstractAsyncContextManager[WechatRig]]


@pytest.fixture
def start(db_path: Path, clock: ManualClock, region_tree: RegionTree) -> Start:
    """`async with start(safe_mode=True, passive_reply_seconds=0.2) as rig:` (see service_rig)."""
    starter: Callable[..., Any] = functools.partial(wechat_service, db_path, clock, tree=region_tree)
    return starter
