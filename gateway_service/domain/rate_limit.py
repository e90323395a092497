"""Requests per client address: a token bucket each, refilled at a steady rate, so a person
reloading their page is never refused and a script walking tokens is slowed to a crawl.
Pure; the caller says what time it is."""

from __future__ import annotations

from dataclasses import dataclass

# Buckets not touched for this long are forgotten (a full bucket is the same as none).
IDLE_SECONDS = 600.0
MOST_ADDRESSES = 100_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}

    def wait(self, address: str, now: float) -> float:
        """0 when the request may go ahead (and it is counted); otherwise the seconds until
        it could."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= MOST_ADDRESSES:
                self._forget(now)
            bucket = self._buckets[address] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget(self, now: float) -> None:
        idle = [a for a, b in self._buckets.items() if now - b.at > IDLE_SECONDS]
        for address in idle or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[address]
