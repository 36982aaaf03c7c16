"""Small asyncio helpers shared by the background workers."""

from __future__ import annotations

import asyncio


async def wait_for_work(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    """Sleep until woken, stopped, or `timeout` seconds pass; clears the wake flag first."""
    wake.clear()
    waiter = asyncio.ensure_future(wake.wait())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        stopper.cancel()
