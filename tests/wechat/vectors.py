"""Loads the fixtures under tests/wechat/fixtures (message XML and public test vectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    """Return a fixture file's bytes."""
    return (FIXTURES / name).read_bytes()


def vectors() -> dict[str, Any]:
    """Return the public vectors from vectors.json."""
    data: dict[str, Any] = json.loads((FIXTURES / "vectors.json").read_text("utf-8"))
    return data


AES = vectors()["aes"]
