"""New due dates the bank confirmed: each recorded once, by its instruction, moving the
debt's record, its notice schedule and queuing the updated boleto's e-mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from boletos.platform.database import writing
from mailer_service.domain.delivery import DeliveryKind
from mailer_service.domain.redates import Redate
from mailer_service.domain.schedule import NoticeStage, restage
from mailer_service.store.common import FAILED, PENDING, SCHEDULER_LOCK, Store, utc_now
from mailer_service.store.tables import deliveries, notices, redates, settlements, updates

SCHEDULED_NOTICES = (DeliveryKind.REMINDER, DeliveryKind.OVERDUE_NOTICE)


@dataclass
class Redated:
    """New due dates looked at, each instruction with what became of it: "queued" (the
    boleto moved and its updated e-mail is queued), "settled" (moved, but paid, written off or
    refused: no e-mail), "ignored" (recorded before, or older than a date recorded for the
    boleto) or "unknown" (the mailer holds no e-mail of the boleto yet: nothing recorded, so
    the date is taken when the event comes again)."""

    outcomes: dict[str, str] = field(default_factory=dict)

    def count(self, what: str) -> int:
        return sum(1 for outcome in self.outcomes.values() if outcome == what)


class RedateStore(Store):
    def apply_redates(self, redated: Sequence[Redate]) -> Redated:
        """Records each new due date once, by its instruction, and in the same transaction
        moves the debt's record to it (due date, linha digitável, amount and Pix, which the
        notices are built from), puts the boleto back in its notice schedule for the new
        date (schedule.restage; notices of the old date still queued or failed are
        withdrawn) and queues the updated boleto's e-mail unless the boleto is settled.

        A repeated instruction changes nothing, nor does one answered before a date already
        recorded for the same boleto; a debt whose boleto e-mail the mailer does not hold yet
        is left unrecorded (Redated says which), to be taken when its event comes again."""
        result = Redated()
        if not redated:
            return result
        # Oldest answer first: of two dates for one boleto in a batch, the later stands.
        items = sorted(
            {r.instruction_id: r for r in redated}.values(),
            key=lambda r: (r.answered_at, r.instruction_id),
        )
        now = utc_now()
        d, s, n, rd = deliveries.c, settlements.c, notices.c, redates.c
        dialect = sqlite if self._sqlite else postgresql
        with writing(self.engine) as conn:
            if not self._sqlite:
                # The scheduler's lock, waited for: no look decides a boleto's notices on its
                # old date while the new one is written, and replicas take turns here.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEDULER_LOCK)))
            keys = list({self._key(r.debt_id) for r in items})
            held = {
                self._id(row.debt_id): row
                for row in conn.execute(
                    sa.select(d.debt_id, d.upload_id, d.line, d.notice_stage, s.outcome)
                    .select_from(deliveries.outerjoin(settlements, s.debt_id == d.debt_id))
                    .where(d.debt_id.in_(keys))
                )
            }
            latest = {
                self._id(key): _aware(at)
                for key, at in conn.execute(
                    sa.select(rd.debt_id, sa.func.max(rd.answered_at))
                    .where(rd.debt_id.in_(keys))
                    .group_by(rd.debt_id)
                )
            }
            record = (
                dialect.insert(redates)
                .on_conflict_do_nothing(index_elements=["instruction_id"])
                .returning(rd.instruction_id)
            )
            for r in items:
                row = held.get(r.debt_id)
                if row is None:
                    result.outcomes[r.instruction_id] = "unknown"
                    continue
                key = self._key(r.debt_id)
                new = conn.execute(
                    record.values(
                        instruction_id=r.instruction_id,
                        debt_id=key,
                        due_date=r.due_date,
                        answered_at=r.answered_at,
                        recorded_at=now,
                    )
                ).first()
                last = latest.get(r.debt_id)
                if new is None or (last is not None and last > r.answered_at):
                    result.outcomes[r.instruction_id] = "ignored"
                    continue
                latest[r.debt_id] = r.answered_at
                conn.execute(
                    notices.delete().where(
                        n.debt_id == key,
                        n.kind.in_([int(k) for k in SCHEDULED_NOTICES]),
                        n.status.in_([PENDING, FAILED]),
                    )
                )
                had = {
                    DeliveryKind(kind)
                    for (kind,) in conn.execute(
                        sa.select(n.kind).where(
                            n.debt_id == key, n.kind.in_([int(k) for k in SCHEDULED_NOTICES])
                        )
                    )
                }
                settled = row.outcome is not None
                stage = restage(NoticeStage(row.notice_stage), settled, had)
                conn.execute(
                    deliveries.update()
                    .where(d.debt_id == key)
                    .values(
                        due_date=r.due_date,
                        digitable_line=r.digitable_line,
                        amount_cents=r.amount_cents,
                        pix_payload=r.pix_payload,
                        notice_stage=stage,
                    )
                )
                if settled:
                    result.outcomes[r.instruction_id] = "settled"
                    continue
                queue = dialect.insert(updates).values(
                    debt_id=key,
                    upload_id=row.upload_id,
                    line=row.line,
                    instruction_id=r.instruction_id,
                    status=PENDING,
                    due_at=now,
                    updated_at=now,
                )
                # A new e-mail for the new date, whatever became of the one for the date
                # before: one still sending is recorded by nobody (see DeliveryStore.record).
                conn.execute(
                    queue.on_conflict_do_update(
                        index_elements=["debt_id"],
                        set_={
                            "instruction_id": queue.excluded.instruction_id,
                            "status": PENDING,
                            "attempts": 0,
                            "attempts_before_retry": 0,
                            "last_error": "",
                            "smtp_code": 0,
                            "message_id": "",
                            "due_at": now,
                            "updated_at": now,
                        },
                    )
                )
                result.outcomes[r.instruction_id] = "queued"
        return result


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at  # SQLite keeps no zone
