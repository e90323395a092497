"""The streaming calls in progress, per principal: bounded per credential and in total, so
one key's hundreds of WatchUpload streams cannot slow everyone else down, and ended when the
credential behind them stops being valid (a revoked key, an expired token) instead of running
on until their own deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from boletos.platform.access.principal import Principal

REVOKED_MESSAGE = "the credential is no longer valid (revoked)"
EXPIRED_MESSAGE = "the credential is no longer valid (the token expired)"


@dataclass(frozen=True)
class StreamLimits:
    # A console, a CLI following an upload or two and a job: far below this.
    per_caller: int = 16
    total: int = 256


@dataclass(eq=False)
class OpenCall:
    task: asyncio.Task[object] | None
    # Set when the credential ended the call, not the client: why, for the client.
    ended_because: str = ""
    _expiry: asyncio.TimerHandle | None = field(default=None, repr=False)

    def end(self, why: str) -> None:
        self.ended_because = why
        if self.task is not None:
            self.task.cancel()


class Full(Exception):
    """No room for another stream: `limit` is "caller" or "total"."""

    def __init__(self, limit: str, allowed: int) -> None:
        super().__init__(limit)
        self.limit = limit
        self.allowed = allowed


class OpenStreams:
    def __init__(self, limits: StreamLimits | None = None) -> None:
        self.limits = limits or StreamLimits()
        self._open: dict[str, set[OpenCall]] = {}
        self._count = 0

    @contextlib.contextmanager
    def watching(self, who: Principal) -> Iterator[OpenCall]:
        """The current task as one of `who`'s streams; raises Full when there is no room."""
        mine = self._open.get(who.id, set())
        if len(mine) >= self.limits.per_caller:
            raise Full("caller", self.limits.per_caller)
        if self._count >= self.limits.total:
            raise Full("total", self.limits.total)
        call = OpenCall(asyncio.current_task())
        if who.expires_at is not None:
            delay = max(0.0, who.expires_at - time.time())
            call._expiry = asyncio.get_running_loop().call_later(delay, call.end, EXPIRED_MESSAGE)
        self._open.setdefault(who.id, set()).add(call)
        self._count += 1
        try:
            yield call
        finally:
            self._count -= 1
            if call._expiry is not None:
                call._expiry.cancel()
            calls = self._open.get(who.id)
            if calls is not None:
                calls.discard(call)
                if not calls:
                    del self._open[who.id]

    def withdraw(self, key_id: str) -> None:
        """Ends the streams of a key the directory no longer honours."""
        for call in list(self._open.get(f"key:{key_id}", ())):
            call.end(REVOKED_MESSAGE)
