"""Failed credential checks, limited per key id and per peer address, so guessing costs the
guesser time and the service nothing.

A token bucket per subject, in memory, per process: each failed check of an API key takes a
token from its id's bucket and its peer's, a failed JWT one from its peer's; tokens come back
at a steady rate, and a subject with none left is refused with RESOURCE_EXHAUSTED before any
scrypt runs, told when to try again. Only failures count: a
client whose key checks out is never slowed down, and keys that checked out lately skip the
limit altogether (directory.py remembers them).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Generous for a person mistyping or a job with a stale key; a guesser gets a few a second.
KEY_BURST, KEY_PER_SECOND = 20, 1 / 3
PEER_BURST, PEER_PER_SECOND = 100, 1.0
# Subjects tracked at once; the longest untouched is forgotten first.
MAX_SUBJECTS = 50_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class FailureLimiter:
    def __init__(
        self,
        burst: int,
        per_second: float,
        max_subjects: int = MAX_SUBJECTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._rate = per_second
        self._max = max_subjects
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def retry_after(self, subject: str) -> int:
        """Seconds until `subject` may try again; 0: now."""
        bucket = self._refilled(subject)
        if bucket is None or bucket.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self._rate))

    def failed(self, subject: str) -> bool:
        """Takes a token for a failed check; True when that was the subject's last."""
        bucket = self._refilled(subject)
        if bucket is None:
            bucket = self._buckets[subject] = _Bucket(float(self._burst), self._clock())
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        bucket.tokens = max(0.0, bucket.tokens - 1)
        self._buckets.move_to_end(subject)
        return bucket.tokens < 1

    def _refilled(self, subject: str) -> _Bucket | None:
        bucket = self._buckets.get(subject)
        if bucket is None:
            return None
        now = self._clock()
        bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        return bucket


@dataclass(frozen=True)
class Throttled:
    """Why a check was refused unrun: which limit, and when to try again."""

    limit: str  # "key" or "peer"
    retry_after: int


class Attempts:
    """The limits a credential check passes: its key id's (API keys only), and its peer
    address's (keys and tokens alike)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.by_key = FailureLimiter(KEY_BURST, KEY_PER_SECOND, clock=clock)
        self.by_peer = FailureLimiter(PEER_BURST, PEER_PER_SECOND, clock=clock)

    def _limits(self, key_id: str | None, peer: str) -> list[tuple[str, FailureLimiter, str]]:
        key = [("key", self.by_key, key_id)] if key_id is not None else []
        return [*key, ("peer", self.by_peer, peer)]

    def throttled(self, key_id: str | None, peer: str) -> Throttled | None:
        for limit, limiter, subject in self._limits(key_id, peer):
            wait = limiter.retry_after(subject)
            if wait:
                return Throttled(limit, wait)
        return None

    def failed(self, key_id: str | None, peer: str) -> list[str]:
        """Counts a failure; the limits it used up."""
        return [
            limit
            for limit, limiter, subject in self._limits(key_id, peer)
            if limiter.failed(subject)
        ]


def peer_host(peer: str) -> str:
    """The address part of a gRPC peer (`ipv4:10.0.0.7:51234` -> `ipv4:10.0.0.7`): a client
    opens a new port per connection, not a new address."""
    if peer.startswith(("ipv4:", "ipv6:")):
        return peer.rsplit(":", 1)[0]
    return peer
