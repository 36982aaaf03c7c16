"""Whether the Kannel 1.4.5 binaries are here: tests skip without them, or fail when CI requires them.

scripts/install-kannel installs them (Debian's kannel and kannel-extras packages).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
REQUIRE_ENV = "FARMER_MAILBOX_REQUIRE_KANNEL"


def kannel_missing() -> str:
    """Why the Kannel binaries cannot be used here, or '' when they can."""
    absent = [str(path) for path in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(path, os.X_OK)]
    return f"Kannel not installed ({', '.join(absent)}); run scripts/install-kannel" if absent else ""


def require_kannel() -> None:
    """Skip the calling test when Kannel is missing, or fail it when $FARMER_MAILBOX_REQUIRE_KANNEL is set."""
    reason = kannel_missing()
    if reason and os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason}, and {REQUIRE_ENV} is set", pytrace=False)
    if reason:
        pytest.skip(reason)
