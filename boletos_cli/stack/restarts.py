"""When a process of the local stack that died is started again, and when the stack gives up.

The same policy an orchestrator applies to a crash-looping container: restart at once-ish,
wait twice as long each time, and stop trying when it keeps dying, so a broken build ends
the stack with its name instead of spinning forever.
"""

from __future__ import annotations

from collections import deque

# Restarts of one process within WINDOW_SECONDS before the stack gives up on it.
MAX_RESTARTS = 5
WINDOW_SECONDS = 60.0
FIRST_DELAY_SECONDS = 0.5
# A service that cannot use its configuration (EX_CONFIG) will not fare better restarted.
EXIT_CONFIG = 78


class RestartBudget:
    def __init__(self) -> None:
        self._recent: deque[float] = deque()

    def delay(self, exit_code: int | None, now: float) -> float | None:
        """Seconds to wait before starting the process again, or None to give up on it."""
        while self._recent and now - self._recent[0] > WINDOW_SECONDS:
            self._recent.popleft()
        if exit_code == EXIT_CONFIG or len(self._recent) >= MAX_RESTARTS:
            return None
        wait = FIRST_DELAY_SECONDS * 2 ** len(self._recent)
        self._recent.append(now)
        return wait

    @property
    def used(self) -> int:
        return len(self._recent)
