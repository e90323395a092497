"""The notice scheduler: every so often, queue the reminders and overdue notices whose day
has come (domain/schedule.py decides which), for the delivery worker to send.

Everything durable is in the store: each boleto's stage and the notices queued, changed in
one transaction per batch, so a crash loses nothing and the next look makes what is missing;
"at most one notice per debt and kind" is the store's primary key, not this loop's care.
Among replicas one decides at a time (on PostgreSQL the transaction's advisory lock; the
others skip their turn), so they do not race over the same boletos.

Time comes from `today`, a callable the composition root passes in: Brasília's calendar
day by default, any day a test wants otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from boletos.platform.logs import get_logger
from boletos.platform.stopping import Stopping
from mailer_service.domain.delivery import DeliveryKind, Settlement
from mailer_service.domain.schedule import Candidate, NoticePolicy, Plan, plan
from mailer_service.service.metrics import CREATED_BY_KIND, SKIPPED_SETTLED

log = get_logger("mailer")

Today = Callable[[], dt.date]

# Boletos looked at per transaction: a day on which a million boletos reach their reminder
# is worked through in short transactions, not one that holds the lock for minutes.
BATCH = 1000
# A look that failed (the database restarting, say) is tried again this soon.
RETRY_SECONDS = 5.0


class AdvancedBatch(Protocol):
    examined: int
    moved: int
    full: bool
    created: dict[DeliveryKind, int]
    skipped: dict[tuple[DeliveryKind, Settlement], int]


class NoticeSchedule(Protocol):
    def advance_schedule(
        self,
        latest_due_for_reminder: dt.date,
        latest_due_for_overdue_notice: dt.date,
        decide: Callable[[Candidate], Plan],
        limit: int,
    ) -> AdvancedBatch | None: ...


@dataclass
class Tick:
    """One look: what it created and spared, or that another replica was deciding."""

    led: bool = True
    examined: int = 0
    created: dict[DeliveryKind, int] = field(default_factory=dict)
    skipped: dict[tuple[DeliveryKind, Settlement], int] = field(default_factory=dict)


class NoticeScheduler:
    def __init__(
        self,
        store: NoticeSchedule,
        policy: NoticePolicy,
        today: Today,
        interval_seconds: float,
        on_created: Callable[[], None],
        batch: int = BATCH,
    ) -> None:
        self._store = store
        self._policy = policy
        self._today = today
        self._interval = interval_seconds
        self._on_created = on_created
        self._batch = batch
        self._stopping = Stopping()
        self.created = 0
        self.skipped = 0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
                wait = self._interval
            except Exception as exc:  # noqa: BLE001 - the store holds the state; look again
                log.warning("mailer.schedule_failed", error=repr(exc), retry_in=RETRY_SECONDS)
                wait = min(self._interval, RETRY_SECONDS)
            await self._stopping.sleep(wait)

    async def tick(self) -> Tick:
        """Works through every boleto whose notice day has come, batch by batch."""
        today = self._today()
        policy = self._policy
        latest_reminder = policy.latest_due_for_reminder(today)
        latest_overdue = policy.latest_due_for_overdue_notice(today)

        def decide(candidate: Candidate) -> Plan:
            return plan(candidate, today, policy)

        tick = Tick()
        while not self._stopping.is_set():
            batch = await asyncio.to_thread(
                self._store.advance_schedule, latest_reminder, latest_overdue, decide, self._batch
            )
            if batch is None:
                tick.led = tick.examined > 0
                break
            tick.examined += batch.examined
            for kind, count in batch.created.items():
                tick.created[kind] = tick.created.get(kind, 0) + count
                CREATED_BY_KIND.labels(kind.label).inc(count)
                self.created += count
            for (kind, reason), count in batch.skipped.items():
                tick.skipped[(kind, reason)] = tick.skipped.get((kind, reason), 0) + count
                SKIPPED_SETTLED.labels(kind.label, reason.label, "at_schedule").inc(count)
                self.skipped += count
            if any(batch.created.values()):
                self._on_created()
            if not batch.full or not batch.moved:
                break
        if tick.created or tick.skipped:
            log.info(
                "mailer.notices_scheduled",
                day=today.isoformat(),
                examined=tick.examined,
                **{f"created_{k.label}": n for k, n in tick.created.items()},
                skipped=sum(tick.skipped.values()),
            )
        return tick
