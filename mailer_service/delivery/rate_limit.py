"""A token bucket shared by every send of one process: at most `rate` messages a second."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable


class TokenBucket:
    """Messages per second, spaced evenly, with bursts of at most one second's worth.

    The bucket starts with a single token, so a fresh process sends its first message at
    once and then settles at the rate instead of opening with a full second's burst; it holds
    `capacity` tokens at most (default: one second's worth, at least one), so a quiet spell
    cannot be saved up into a bigger burst later. Waiters are served in arrival order.
    """

    def __init__(
        self,
        rate: float,
        *,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a finite number > 0, got {rate!r}")
        if capacity is None:
            capacity = max(1.0, rate)
        if not (math.isfinite(capacity) and capacity >= 1):
            raise ValueError(f"capacity must be a finite number >= 1, got {capacity!r}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = 1.0
        self._updated = clock()
        # Held while waiting for a token: that queues the waiters in order, and a cancelled
        # waiter gives its place up without having taken anything.
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        """Wait until one message may go out."""
        async with self._lock:
            self._refill()
            if self._tokens < 1.0:
                await asyncio.sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            # Timers fire a little early or late; a small debt here is repaid by the next wait.
            self._tokens -= 1.0
