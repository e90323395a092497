"""When to try a temporarily failed message again: exponential backoff with full jitter.

Full jitter (a uniform draw between zero and the exponential ceiling) spreads the retries of
messages that failed together, e.g. when the server was down, instead of sending them all
back at the same instant.
"""

from __future__ import annotations

import math
import random

# With the defaults the ceilings run 5 s, 10 s, ... 320 s, then stay at 10 minutes: eight
# attempts span about ten minutes in expectation, long enough to ride out a greylisting
# delay or a server restart.
BASE_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 600.0

# 2**1023 is the largest power of two a float holds; anything past it is "the cap" anyway.
_MAX_EXPONENT = 1000


def retry_delay(
    attempt: int,
    base: float = BASE_DELAY_SECONDS,
    cap: float = MAX_DELAY_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1 after the first failure).

    A uniform draw from [0, min(cap, base * 2 ** (attempt - 1))]; pass a seeded
    random.Random for a reproducible schedule. Attempts below 1 count as 1.
    """
    if not (math.isfinite(base) and base >= 0):
        raise ValueError(f"base must be a finite number >= 0, got {base!r}")
    if not (math.isfinite(cap) and cap >= 0):
        raise ValueError(f"cap must be a finite number >= 0, got {cap!r}")
    exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
    ceiling = min(cap, base * 2.0**exponent)
    return (rng or random).uniform(0.0, ceiling)
