"""Waiting in async tests for state that other threads or processes fill in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def wait_for(check: Callable[[], object], within: float = 30, every: float = 0.1) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the state is filled by server threads or peers
            await asyncio.sleep(every)


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float = 30, every: float = 0.2
) -> None:
    """The same, for a check that must itself await (a call to a service)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - the answer comes from another process
            await asyncio.sleep(every)
