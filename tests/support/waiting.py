"""Waiting in async tests for state that other threads or processes fill in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_for(check: Callable[[], object], within: float = 30, every: float = 0.1) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the state is filled by server threads or peers
            await asyncio.sleep(every)
