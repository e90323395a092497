"""The mailer store's operations: queue deliveries once, claim them, record outcomes; keep
what the bank reported of each boleto and the schedule of the notices that follow it.

The boleto e-mails live in `deliveries` (one per debt, as before notices existed, so a
replica of that release keeps working during a rollout); the notices in `notices`, one per
debt and kind; the updated boleto's e-mail, after the bank confirmed a new due date, in
`updates`, one per debt at a time. All go through the same claims, leases and outcomes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from boletos.platform.brasilia import local_day
from boletos.platform.database import raw_cursor, writing
from boletos.platform.nats_streams import SUBJECT_EMAILS_FAILED, SUBJECT_EMAILS_SENT
from boletos.platform.outbox import Event, OutboxStore, insert_events
from boletos.v1 import events_pb2
from mailer_service.domain.boleto_mail import BoletoMail
from mailer_service.domain.delivery import (
    DeliveryKey,
    DeliveryKind,
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    Payment,
    Queued,
    Settlement,
)
from mailer_service.domain.redates import Redate
from mailer_service.domain.schedule import Candidate, NoticeStage, Plan, restage
from mailer_service.domain.settlements import BankReport
from mailer_service.store.tables import (
    deliveries,
    notices,
    outbox,
    redates,
    settlements,
    updates,
)

PENDING, SENDING, SENT, FAILED, UNCERTAIN = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNCERTAIN,
)


BOLETO = DeliveryKind.BOLETO
UPDATED = DeliveryKind.UPDATED
SCHEDULED_NOTICES = (DeliveryKind.REMINDER, DeliveryKind.OVERDUE_NOTICE)

# The scheduler's PostgreSQL advisory lock: whoever holds it is the one replica deciding
# notices, for the length of one transaction. Any fixed number no other code uses.
SCHEDULER_LOCK = 0x6D61696C_6E6F7469  # "mailnoti"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


@dataclass
class Settled:
    """Bank reports recorded: how many were news, and the receipts they queued."""

    recorded: int = 0
    receipts: int = 0


class MailerStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outbox = OutboxStore(engine, outbox)
        self._sqlite = engine.dialect.name == "sqlite"

    def enqueue(self, mails: Sequence[BoletoMail]) -> int:
        """One pending delivery per debt; a debt already queued (a redelivered or re-sent
        event) is left as it is. Returns how many were new."""
        if not mails:
            return 0
        now = _now()
        rows = [
            {
                "debt_id": self._key(m.debt_id),
                "upload_id": m.upload_id,
                "line": m.line,
                "email": m.email,
                "payer_name": m.payer_name,
                "amount_cents": m.amount_cents,
                "due_date": m.due_date,
                "digitable_line": m.digitable_line,
                "nosso_numero": m.nosso_numero,
                "pix_payload": m.pix_payload,
                "status": PENDING,
                "due_at": now,
                "updated_at": now,
                "notice_stage": NoticeStage.AWAITING_REMINDER,
            }
            for m in mails
        ]
        dialect = sqlite if self._sqlite else postgresql
        insert = (
            dialect.insert(deliveries)
            .on_conflict_do_nothing(index_elements=["debt_id"])
            .returning(deliveries.c.debt_id)
        )
        with writing(self.engine) as conn:
            # Counted from RETURNING: an executemany's rowcount is -1 on PostgreSQL.
            return len(conn.execute(insert, rows).all())

    def claim(self, limit: int, lease: dt.timedelta) -> list[Queued]:
        """Marks up to `limit` due deliveries as sending, leased until now + lease. A lease
        that ran out belongs to a sender that died: the delivery is claimed again.

        Notices take up to half of a claim when they have any, so a day's reminders are not
        held back for hours behind a large upload's boleto e-mails."""
        share = max(1, (limit + 1) // 2)
        claimed = self._claim_notices(share, lease)
        if len(claimed) < share:
            claimed += self._claim_updates(share - len(claimed), lease)
        if len(claimed) < limit:
            claimed += self._claim_boletos(limit - len(claimed), lease)
        return claimed

    def _claim_boletos(self, limit: int, lease: dt.timedelta) -> list[Queued]:
        now = _now()
        c = deliveries.c
        due = (
            sa.select(c.debt_id)
            .where(c.status.in_([PENDING, SENDING]), c.due_at <= now)
            .order_by(c.due_at)
            .limit(limit)
        )
        if not self._sqlite:
            due = due.with_for_update(skip_locked=True)  # replicas take different rows
        with writing(self.engine) as conn:
            keys = [k for (k,) in conn.execute(due)]
            if not keys:
                return []
            conn.execute(
                deliveries.update()
                .where(c.debt_id.in_(keys))
                .values(status=SENDING, due_at=now + lease, attempts=c.attempts + 1, updated_at=now)
            )
            rows = conn.execute(
                sa.select(
                    c.debt_id, c.upload_id, c.payer_name, c.email, c.amount_cents, c.due_date,
                    c.digitable_line, c.nosso_numero, c.line, c.pix_payload, c.attempts,
                    c.attempts_before_retry,
                ).where(c.debt_id.in_(keys))
            ).all()  # fmt: skip
        return [
            Queued(
                BoletoMail(self._id(r[0]), *r[1:10]), attempts=r[10], attempts_before_retry=r[11]
            )
            for r in rows
        ]

    def _claim_notices(self, limit: int, lease: dt.timedelta) -> list[Queued]:
        now = _now()
        n = notices.c
        due = (
            sa.select(n.debt_id, n.kind)
            .where(n.status.in_([PENDING, SENDING]), n.due_at <= now)
            .order_by(n.due_at)
            .limit(limit)
        )
        if not self._sqlite:
            due = due.with_for_update(skip_locked=True)
        with writing(self.engine) as conn:
            keys = [(k, kind) for k, kind in conn.execute(due)]
            if not keys:
                return []
            for kind, debt_keys in _by_kind(keys):
                conn.execute(
                    notices.update()
                    .where(n.kind == kind, n.debt_id.in_(debt_keys))
                    .values(
                        status=SENDING, due_at=now + lease, attempts=n.attempts + 1, updated_at=now
                    )
                )
            d, s = deliveries.c, settlements.c
            query = (
                sa.select(
                    d.debt_id, d.upload_id, d.payer_name, d.email, d.amount_cents, d.due_date,
                    d.digitable_line, d.nosso_numero, d.line, d.pix_payload, n.attempts,
                    n.attempts_before_retry, n.kind, s.outcome, s.paid_cents, s.paid_on,
                )
                .select_from(
                    notices.join(deliveries, d.debt_id == n.debt_id).outerjoin(
                        settlements, s.debt_id == n.debt_id
                    )
                )
            )  # fmt: skip
            rows: list[Any] = []
            for kind, debt_keys in _by_kind(keys):
                rows += conn.execute(query.where(n.kind == kind, n.debt_id.in_(debt_keys))).all()
        claimed = []
        for r in rows:
            outcome = Settlement(r[13]) if r[13] is not None else None
            payment = None
            if outcome == Settlement.PAID and r[14] is not None and r[15] is not None:
                payment = Payment(paid_cents=r[14], paid_on=r[15])
            claimed.append(
                Queued(
                    BoletoMail(self._id(r[0]), *r[1:10]),
                    attempts=r[10],
                    attempts_before_retry=r[11],
                    kind=DeliveryKind(r[12]),
                    payment=payment,
                    settled_as=outcome,
                )
            )
        return claimed

    def _claim_updates(self, limit: int, lease: dt.timedelta) -> list[Queued]:
        now = _now()
        u = updates.c
        due = (
            sa.select(u.debt_id)
            .where(u.status.in_([PENDING, SENDING]), u.due_at <= now)
            .order_by(u.due_at)
            .limit(limit)
        )
        if not self._sqlite:
            due = due.with_for_update(skip_locked=True)
        with writing(self.engine) as conn:
            keys = [k for (k,) in conn.execute(due)]
            if not keys:
                return []
            conn.execute(
                updates.update()
                .where(u.debt_id.in_(keys))
                .values(status=SENDING, due_at=now + lease, attempts=u.attempts + 1, updated_at=now)
            )
            d, s = deliveries.c, settlements.c
            rows = conn.execute(
                sa.select(
                    d.debt_id, d.upload_id, d.payer_name, d.email, d.amount_cents, d.due_date,
                    d.digitable_line, d.nosso_numero, d.line, d.pix_payload, u.attempts,
                    u.attempts_before_retry, s.outcome, u.instruction_id,
                )
                .select_from(
                    updates.join(deliveries, d.debt_id == u.debt_id).outerjoin(
                        settlements, s.debt_id == u.debt_id
                    )
                )
                .where(u.debt_id.in_(keys))
            ).all()  # fmt: skip
        return [
            Queued(
                BoletoMail(self._id(r[0]), *r[1:10]),
                attempts=r[10],
                attempts_before_retry=r[11],
                kind=UPDATED,
                settled_as=Settlement(r[12]) if r[12] is not None else None,
                instruction_id=r[13],
            )
            for r in rows
        ]

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Stores the outcomes and their EmailsSent / EmailsFailed events together."""
        if not outcomes:
            return
        now = _now()
        c = deliveries.c
        n = notices.c
        boletos = [o for o in outcomes if o.kind == BOLETO]
        # Only the boleto e-mails are reported: the upload's counts are of those, and the
        # events carry no kind to tell a reminder from them.
        sent = [o for o in boletos if o.status == SENT]
        # An uncertain e-mail is reported with the failures: a person has to look at it.
        failed = [o for o in boletos if o.status in (FAILED, UNCERTAIN)]
        kept = [o for o in outcomes if o.kind not in (BOLETO, UPDATED) and not o.dropped]
        dropped = [o for o in outcomes if o.kind not in (BOLETO, UPDATED) and o.dropped]
        kept_updates = [o for o in outcomes if o.kind == UPDATED and not o.dropped]
        dropped_updates = [o for o in outcomes if o.kind == UPDATED and o.dropped]
        u = updates.c
        with writing(self.engine) as conn:
            # One statement per table for the whole batch; a message id is only ever set,
            # never cleared.
            for table, key, done in (
                (deliveries, c.debt_id == sa.bindparam("k"), boletos),
                (
                    notices,
                    (n.debt_id == sa.bindparam("k")) & (n.kind == sa.bindparam("knd")),
                    kept,
                ),
                (
                    updates,
                    # Only while still sending: a new due date confirmed meanwhile queued the
                    # e-mail again, and this outcome is of the e-mail for the date before.
                    (u.debt_id == sa.bindparam("k")) & (u.status == SENDING),
                    kept_updates,
                ),
            ):
                if not done:
                    continue
                conn.execute(
                    table.update()
                    .where(key)
                    .values(
                        status=sa.bindparam("s"),
                        message_id=sa.func.coalesce(sa.bindparam("m"), table.c.message_id),
                        last_error=sa.bindparam("e"),
                        smtp_code=sa.bindparam("code"),
                        due_at=sa.bindparam("due"),
                        attempts=table.c.attempts - sa.bindparam("refund"),
                        updated_at=now,
                    ),
                    [
                        {
                            "k": self._key(o.debt_id),
                            "knd": int(o.kind),
                            "s": o.status,
                            "m": o.message_id or None,
                            "e": o.error,
                            "code": o.smtp_code,
                            "due": o.retry_at or now,
                            "refund": int(o.refund_attempt),
                        }
                        for o in done
                    ],
                )
            if dropped:
                conn.execute(
                    notices.delete().where(
                        n.debt_id == sa.bindparam("k"),
                        n.kind == sa.bindparam("knd"),
                        n.status == SENDING,
                    ),
                    [{"k": self._key(o.debt_id), "knd": int(o.kind)} for o in dropped],
                )
            if dropped_updates:
                conn.execute(
                    updates.delete().where(u.debt_id == sa.bindparam("k"), u.status == SENDING),
                    [{"k": self._key(o.debt_id)} for o in dropped_updates],
                )
            events: list[Event] = []
            if sent:
                payload = events_pb2.EmailsSent(
                    emails=[
                        events_pb2.SentEmail(
                            debt_id=o.debt_id, upload_id=o.upload_id, message_id=o.message_id
                        )
                        for o in sent
                    ]
                ).SerializeToString()
                events.append((SUBJECT_EMAILS_SENT, f"emails-sent:{uuid.uuid4()}", payload))
            if failed:
                payload = events_pb2.EmailsFailed(
                    emails=[
                        events_pb2.FailedEmail(
                            debt_id=o.debt_id,
                            upload_id=o.upload_id,
                            reason=o.error,
                            smtp_code=o.smtp_code,
                            uncertain=o.status == UNCERTAIN,
                        )
                        for o in failed
                    ]
                ).SerializeToString()
                events.append((SUBJECT_EMAILS_FAILED, f"emails-failed:{uuid.uuid4()}", payload))
            cursor = raw_cursor(conn)
            insert_events(cursor, conn.dialect.name, events)

    def release(self, keys: Sequence[DeliveryKey]) -> None:
        """Hands claimed deliveries that were never tried back to the queue, due now and with
        their attempt given back: a stopping sender's unsent share goes to the others at once
        instead of waiting out its lease."""
        if not keys:
            return
        now = _now()
        with writing(self.engine) as conn:
            for table, where in self._where_keys(keys):
                conn.execute(
                    table.update()
                    .where(where, table.c.status == SENDING)
                    .values(
                        status=PENDING, attempts=table.c.attempts - 1, due_at=now, updated_at=now
                    )
                )

    def renew(self, keys: Sequence[DeliveryKey], lease: dt.timedelta) -> int:
        """Extends the lease of deliveries still being sent: a live sender keeps what it
        claimed however slow the SMTP server is."""
        if not keys:
            return 0
        renewed = 0
        with writing(self.engine) as conn:
            for table, where in self._where_keys(keys):
                renewed += conn.execute(
                    table.update()
                    .where(where, table.c.status == SENDING)
                    .values(due_at=_now() + lease)
                ).rowcount
        return renewed

    def retry_failed(self, upload_id: str, include_uncertain: bool = False) -> int:
        """Failed deliveries of the upload, of every kind, back to pending, each with a fresh
        retry budget; the attempts already made stay counted. Uncertain ones only when asked.
        A notice of a boleto settled meanwhile is dropped when claimed, not sent."""
        now = _now()
        statuses = [FAILED, UNCERTAIN] if include_uncertain else [FAILED]
        requeued = 0
        with writing(self.engine) as conn:
            for table in (deliveries, notices, updates):
                c = table.c
                requeued += conn.execute(
                    table.update()
                    .where(c.upload_id == upload_id, c.status.in_(statuses))
                    .values(
                        status=PENDING, attempts_before_retry=c.attempts, due_at=now, updated_at=now
                    )
                ).rowcount
        return requeued

    def knows_upload(self, upload_id: str) -> bool:
        """Whether any boleto of the upload reached the mailer."""
        c = deliveries.c
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(c.debt_id).where(c.upload_id == upload_id).limit(1))
            return found.first() is not None

    def get(self, debt_id: str, kind: DeliveryKind = BOLETO) -> DeliveryRecord | None:
        table = _table(kind)
        query = self._record_query(kind).where(table.c.debt_id == self._key(debt_id))
        if table is notices:
            query = query.where(notices.c.kind == kind)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self._record(row, kind) if row else None

    def list_for_upload(
        self,
        upload_id: str,
        status: int,
        after_line: int,
        limit: int,
        kind: DeliveryKind = BOLETO,
    ) -> list[DeliveryRecord]:
        """An upload's deliveries of one kind in file line order, after `after_line`."""
        table = _table(kind)
        c = table.c
        query = (
            self._record_query(kind)
            .where(c.upload_id == upload_id, c.line > after_line)
            .order_by(c.line)
            .limit(limit)
        )
        if table is notices:
            query = query.where(notices.c.kind == kind)
        if status:
            query = query.where(c.status == status)
        with self.engine.connect() as conn:
            return [self._record(r, kind) for r in conn.execute(query)]

    def counts(self) -> dict[int, int]:
        c = deliveries.c
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(c.status, sa.func.count()).group_by(c.status)).all())

    # -- what the bank reported -------------------------------------------------------------

    def record_bank_reports(self, reports: Sequence[BankReport], receipts: bool) -> Settled:
        """Keeps what the bank reported of each boleto, once: a payment replaces a write-off
        or a refusal, nothing replaces a payment, a repeat changes nothing. Each boleto newly
        settled leaves the notice schedule; with `receipts`, each newly paid boleto whose
        e-mail the mailer holds gets its receipt queued, in the same transaction."""
        if not reports:
            return Settled()
        latest: dict[str, BankReport] = {}
        for report in reports:
            known = latest.get(report.debt_id)
            if known is None or _outranks(report.outcome, known.outcome):
                latest[report.debt_id] = report
        now = _now()
        s = settlements.c
        with writing(self.engine) as conn:
            keys = [self._key(d) for d in latest]
            stored = {
                self._id(k): Settlement(o)
                for k, o in conn.execute(sa.select(s.debt_id, s.outcome).where(s.debt_id.in_(keys)))
            }
            news = [
                r for d, r in latest.items() if d not in stored or _outranks(r.outcome, stored[d])
            ]
            if not news:
                return Settled()
            rows = [
                {
                    "debt_id": self._key(r.debt_id),
                    "upload_id": r.upload_id,
                    "outcome": int(r.outcome),
                    "paid_cents": r.paid_cents,
                    "fee_cents": r.fee_cents,
                    "paid_on": r.paid_on,
                    "recorded_at": now,
                }
                for r in news
            ]
            dialect = sqlite if self._sqlite else postgresql
            insert = dialect.insert(settlements)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["debt_id"],
                    set_={
                        "outcome": insert.excluded.outcome,
                        "paid_cents": insert.excluded.paid_cents,
                        "fee_cents": insert.excluded.fee_cents,
                        "paid_on": insert.excluded.paid_on,
                        "recorded_at": insert.excluded.recorded_at,
                    },
                    # A payment another replica recorded meanwhile is never replaced.
                    where=settlements.c.outcome != int(Settlement.PAID),
                ),
                rows,
            )
            d = deliveries.c
            news_keys = [self._key(r.debt_id) for r in news]
            conn.execute(
                deliveries.update()
                .where(
                    d.debt_id.in_(news_keys),
                    d.notice_stage.in_(
                        [NoticeStage.AWAITING_REMINDER, NoticeStage.AWAITING_OVERDUE_NOTICE]
                    ),
                )
                .values(notice_stage=NoticeStage.DONE)
            )
            queued = 0
            paid = [self._key(r.debt_id) for r in news if r.outcome == Settlement.PAID]
            if receipts and paid:
                queued = self._queue_notices(
                    conn,
                    DeliveryKind.RECEIPT,
                    conn.execute(
                        sa.select(d.debt_id, d.upload_id, d.line).where(d.debt_id.in_(paid))
                    ).all(),
                    now,
                )
        return Settled(recorded=len(news), receipts=queued)

    def settlement(self, debt_id: str) -> tuple[Settlement, Payment | None] | None:
        s = settlements.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(s.outcome, s.paid_cents, s.paid_on).where(s.debt_id == self._key(debt_id))
            ).first()
        if row is None:
            return None
        payment = Payment(row[1], row[2]) if row[1] is not None and row[2] is not None else None
        return Settlement(row[0]), payment

    # -- the notice schedule ----------------------------------------------------------------

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
        now = _now()
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
                advanced.created[kind] = self._queue_notices(conn, kind, targets, now)
            for stage, keys in to_stage.items():
                conn.execute(
                    deliveries.update().where(d.debt_id.in_(keys)).values(notice_stage=stage)
                )
            advanced.examined = len(rows)
            advanced.moved = sum(len(keys) for keys in to_stage.values())
        return advanced

    def _queue_notices(
        self, conn: sa.Connection, kind: DeliveryKind, targets: Iterable[Any], now: dt.datetime
    ) -> int:
        """Pending notices of one kind for (debt key, upload, line) triples; a notice that
        exists already is left as it is. Returns how many are new."""
        rows = [
            {
                "debt_id": key,
                "kind": int(kind),
                "upload_id": upload_id,
                "line": line,
                "status": PENDING,
                "due_at": now,
                "updated_at": now,
            }
            for key, upload_id, line in targets
        ]
        if not rows:
            return 0
        dialect = sqlite if self._sqlite else postgresql
        insert = (
            dialect.insert(notices)
            .on_conflict_do_nothing(index_elements=["debt_id", "kind"])
            .returning(notices.c.debt_id)
        )
        return len(conn.execute(insert, rows).all())

    # -- new due dates ----------------------------------------------------------------------

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
        now = _now()
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
                # before: one still sending is recorded by nobody (see record()).
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

    def boleto_mail(self, debt_id: str) -> BoletoMail | None:
        """What the mailer holds of a debt's boleto now: its notices are composed from it."""
        c = deliveries.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    c.upload_id, c.payer_name, c.email, c.amount_cents, c.due_date,
                    c.digitable_line, c.nosso_numero, c.line, c.pix_payload,
                ).where(c.debt_id == self._key(debt_id))
            ).first()  # fmt: skip
        return BoletoMail(debt_id, *row) if row is not None else None

    def stages(self) -> dict[str, int]:
        """Each debt's notice stage, for tests and tools."""
        d = deliveries.c
        with self.engine.connect() as conn:
            return {
                self._id(k): int(stage)
                for k, stage in conn.execute(sa.select(d.debt_id, d.notice_stage))
            }

    # -- rows and keys -----------------------------------------------------------------------

    def _where_keys(self, keys: Sequence[DeliveryKey]) -> list[tuple[sa.Table, Any]]:
        """(table, condition) pairs that pick the deliveries named, one per table and kind."""
        picked: list[tuple[sa.Table, Any]] = []
        for kind, debt_keys in _by_kind([(self._key(d), k) for d, k in keys]):
            if kind in (BOLETO, UPDATED):
                table = _table(kind)
                picked.append((table, table.c.debt_id.in_(debt_keys)))
            else:
                n = notices.c
                picked.append((notices, (n.kind == kind) & n.debt_id.in_(debt_keys)))
        return picked

    def _record_query(self, kind: DeliveryKind = BOLETO) -> sa.Select[Any]:
        if kind == BOLETO:
            c = deliveries.c
            return sa.select(
                c.debt_id, c.upload_id, c.email, c.status, c.attempts, c.last_error, c.smtp_code,
                c.message_id, c.updated_at, c.line,
            )  # fmt: skip
        table = _table(kind)
        n, d = table.c, deliveries.c
        return sa.select(
            n.debt_id, n.upload_id, d.email, n.status, n.attempts, n.last_error, n.smtp_code,
            n.message_id, n.updated_at, n.line,
        ).select_from(table.join(deliveries, d.debt_id == n.debt_id))  # fmt: skip

    def _record(self, row: sa.Row[Any], kind: DeliveryKind = BOLETO) -> DeliveryRecord:
        debt_id, upload_id, email, status, attempts, error, code, message_id, updated, line = tuple(
            row
        )
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; all is UTC
        return DeliveryRecord(
            self._id(debt_id), upload_id, email, DeliveryStatus(status), attempts, error, code,
            message_id, updated, line, kind,
        )  # fmt: skip

    def _key(self, debt_id: str) -> bytes | str:
        return uuid.UUID(debt_id).bytes if self._sqlite else debt_id

    def _id(self, key: object) -> str:
        return str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key)


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at  # SQLite keeps no zone


def _table(kind: DeliveryKind) -> sa.Table:
    if kind == BOLETO:
        return deliveries
    return updates if kind == UPDATED else notices


def _outranks(new: Settlement, old: Settlement) -> bool:
    """Whether a report replaces what is known: only a payment replaces anything."""
    return new == Settlement.PAID and old != Settlement.PAID


def _by_kind(keys: Iterable[tuple[Any, int]]) -> list[tuple[DeliveryKind, list[Any]]]:
    grouped: dict[DeliveryKind, list[Any]] = {}
    for key, kind in keys:
        grouped.setdefault(DeliveryKind(kind), []).append(key)
    return list(grouped.items())
