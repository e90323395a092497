"""What every notification channel offers, and the retry pace they share."""

from __future__ import annotations

import re
from typing import Protocol

from boletos.platform.logs import mask_email
from ingest_service.notifications.summary import Notice

MAX_RETRY_SECONDS = 600.0

_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@[A-Za-z0-9.-]+")


class Channel(Protocol):
    name: str
    # Whether the channel can carry the report file (e-mail can; a JSON webhook cannot).
    carries_files: bool

    async def send(self, notice: Notice) -> None:
        """Delivers the notice or raises."""


def retry_delay(attempt: int, base: float) -> float:
    """Seconds before attempt `attempt` + 1: doubling from `base`, at most ten minutes."""
    return min(base * 2 ** max(attempt - 1, 0), MAX_RETRY_SECONDS)


def describe(exc: BaseException) -> str:
    """An error fit for the logs: SMTP replies often quote the recipient's address."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _ADDRESS.sub(lambda m: mask_email(m.group()), f"{type(exc).__name__}: {text}")[:500]
