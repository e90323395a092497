"""Records each delivery's outcome as soon as it is known, committing together whatever
finished while the previous commit ran.

A sender waits for its outcome's commit before it takes the next message, so at any moment
at most one message per SMTP connection is accepted by the server and not yet recorded:
that, and nothing more, is what a crash can make go out twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from boletos.platform.logs import get_logger
from boletos.platform.outbox import Event
from mailer_service.domain.delivery import Outcome
from mailer_service.service.outcome_events import outcome_events

log = get_logger("mailer")

# A failed commit (the database restarting, say) is tried again after this long.
RETRY_SECONDS = 1.0


class OutcomeStore(Protocol):
    def record(self, outcomes: Sequence[Outcome], events: Sequence[Event]) -> None: ...


class Recorder:
    def __init__(self, store: OutcomeStore, on_commit: Callable[[Sequence[Outcome]], None]) -> None:
        self._store = store
        self._on_commit = on_commit
        self._pending: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._ready = asyncio.Event()
        self._committing: asyncio.Task[None] | None = None

    async def record(self, outcome: Outcome) -> None:
        """Returns once the outcome is committed."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, done))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_all(), name="record-outcomes")
        # Shielded: a sender cancelled past the grace period still gets its outcome kept.
        await asyncio.shield(done)

    async def flush(self) -> None:
        """Waits until every outcome handed in so far is committed."""
        while self._committing is not None and not self._committing.done():
            await asyncio.shield(self._committing)

    async def _commit_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            outcomes = [outcome for outcome, _done in batch]
            while True:
                # Built anew for each attempt, as ids of their own: a commit whose answer was
                # lost may have kept the events, and the same ids again would be refused.
                events = outcome_events(outcomes)
                try:
                    await asyncio.to_thread(self._store.record, outcomes, events)
                    break
                except Exception as exc:  # noqa: BLE001 - an unrecorded send would go again
                    log.error(
                        "mailer.record_failed",
                        outcomes=len(outcomes),
                        error=repr(exc),
                        retry_in=RETRY_SECONDS,
                    )
                    await asyncio.sleep(RETRY_SECONDS)
            self._on_commit(outcomes)
            for _outcome, done in batch:
                if not done.done():
                    done.set_result(None)
