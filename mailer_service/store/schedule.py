"""The notice schedule: each boleto's stage, and the looks that queue its reminder and
overdue notice when their day comes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from boletos.platform.brasilia import local_day
from boletos.platform.database import writing
from mailer_service.domain.delivery import DeliveryKind, Settlement
from mailer_service.domain.schedule import Candidate, NoticeStage, Plan
from mailer_service.store.common import SCHEDULER_LOCK, SENT, Store, queue_notices, utc_now
from mailer_service.store.tables import deliveries, settlements, updates


@dataclass
class Advanced:
    """One scheduler batch: boletos looked at, notices created and spared, per kind."""

    examined: int = 0
    # Boletos moved to another stage; every boleto looked at moves, unless asked about a
    # day other than the one it was looked up for.
    moved: int = 0
    # A look found as many boletos as it asked for: there may be more due.
    full: bool = False
    created: dict[DeliveryKind, int] = field(default_factory=dict)
    skipped: dict[tuple[DeliveryKind, Settlement], int] = field(default_factory=dict)


class ScheduleStore(Store):
    def advance_schedule(
        self,
        latest_due_for_reminder: dt.date,
        latest_due_for_overdue_notice: dt.date,
        decide: Callable[[Candidate], Plan],
        limit: int,
    ) -> Advanced | None:
        """Looks at up to `limit` boletos whose reminder's day and up to `limit` whose overdue
        notice's day has come, queues the notices `decide` gives and moves each boleto on,
        all in one transaction: a crash leaves a batch whole or undone, and the next look
        makes what is missing. None when another replica is deciding (PostgreSQL's advisory
        lock; on SQLite the one process is the only one)."""
        d, s, u = deliveries.c, settlements.c, updates.c
        base = sa.select(
            d.debt_id, d.upload_id, d.line, d.due_date, d.notice_stage, d.status, d.updated_at,
            s.outcome, u.status, u.updated_at,
        ).select_from(
            deliveries.outerjoin(settlements, s.debt_id == d.debt_id).outerjoin(
                updates, u.debt_id == d.debt_id
            )
        )  # fmt: skip
        stages = (
            (NoticeStage.AWAITING_REMINDER, latest_due_for_reminder),
            (NoticeStage.AWAITING_OVERDUE_NOTICE, latest_due_for_overdue_notice),
        )
        now = utc_now()
        advanced = Advanced()
        with writing(self.engine) as conn:
            if not self._sqlite:
                lock = sa.func.pg_try_advisory_xact_lock(SCHEDULER_LOCK)
                if not conn.execute(sa.select(lock)).scalar():
                    return None
            rows: list[Any] = []
            for stage, latest_due in stages:
                found = conn.execute(
                    base.where(d.notice_stage == stage, d.due_date <= latest_due)
                    .order_by(d.due_date)
                    .limit(limit)
                ).all()
                advanced.full = advanced.full or len(found) >= limit
                rows += found
            to_create: dict[DeliveryKind, list[tuple[Any, str, int]]] = {}
            to_stage: dict[NoticeStage, list[Any]] = {}
            for key, upload_id, line, due, stage, status, updated, outcome, *update in rows:
                update_status, update_sent = update
                if update_status is not None:
                    # Redated: the updated boleto's e-mail is the one the notices follow.
                    status, updated = update_status, update_sent
                sent_on = local_day(updated) if status == SENT else None
                settled_as = Settlement(outcome) if outcome is not None else None
                planned = decide(Candidate(due, NoticeStage(stage), settled_as, sent_on))
                for kind in planned.create:
                    to_create.setdefault(kind, []).append((key, upload_id, line))
                for kind in planned.skipped:
                    assert settled_as is not None
                    counted = (kind, settled_as)
                    advanced.skipped[counted] = advanced.skipped.get(counted, 0) + 1
                if planned.stage != stage:
                    to_stage.setdefault(planned.stage, []).append(key)
            for kind, targets in to_create.items():
                advanced.created[kind] = queue_notices(conn, kind, targets, now)
            for stage, keys in to_stage.items():
                conn.execute(
                    deliveries.update().where(d.debt_id.in_(keys)).values(notice_stage=stage)
                )
            advanced.examined = len(rows)
            advanced.moved = sum(len(keys) for keys in to_stage.values())
        return advanced

    def stages(self) -> dict[str, int]:
        """Each debt's notice stage, for tests and tools."""
        d = deliveries.c
        with self.engine.connect() as conn:
            return {
                self._id(k): int(stage)
                for k, stage in conn.execute(sa.select(d.debt_id, d.notice_stage))
            }
