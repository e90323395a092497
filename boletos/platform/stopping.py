"""How a long-running worker is asked to stop: an event it can also sleep on, so a worker
between two turns of its loop stops at once instead of at the end of its nap."""

from __future__ import annotations

import asyncio


class Stopping:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Sleeps up to `seconds`, less if asked to stop meanwhile; True if asked."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True
