"""Shared fixtures for the text tests."""

from __future__ import annotations

import pytest

from tests.text.fake_places import FakeResolver


@pytest.fixture
def places() -> FakeResolver:
    return FakeResolver()
