"""The delivery queue: queue each e-mail once, claim them, record their outcomes.

The boleto e-mails live in `deliveries` (one per debt, as before notices existed, so a
replica of that release keeps working during a rollout); the notices in `notices`, one per
debt and kind; the updated boleto's e-mail, after the bank confirmed a new due date, in
`updates`, one per debt at a time. All go through the same claims, leases and outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from boletos.platform import trace_context
from boletos.platform.database import raw_cursor, writing
from boletos.platform.outbox import Event, OutboxStore, insert_events
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
from mailer_service.domain.schedule import NoticeStage
from mailer_service.store.common import FAILED, PENDING, SENDING, UNCERTAIN, Store, utc_now
from mailer_service.store.tables import deliveries, notices, outbox, settlements, updates

BOLETO = DeliveryKind.BOLETO
UPDATED = DeliveryKind.UPDATED


def _recording(table: sa.Table, key: sa.ColumnElement[bool]) -> sa.Update:
    """An outcome's UPDATE of `table`, built once: a commit often carries one or two outcomes,
    and building the statement anew took about as long as running it. A message id is only
    ever set, never cleared."""
    return (
        table.update()
        .where(key)
        .values(
            status=sa.bindparam("s"),
            message_id=sa.func.coalesce(sa.bindparam("m"), table.c.message_id),
            last_error=sa.bindparam("e"),
            smtp_code=sa.bindparam("code"),
            due_at=sa.bindparam("due"),
            attempts=table.c.attempts - sa.bindparam("refund"),
            updated_at=sa.bindparam("now"),
        )
    )


_RECORD_BOLETO = _recording(deliveries, deliveries.c.debt_id == sa.bindparam("k"))
_RECORD_NOTICE = _recording(
    notices, (notices.c.debt_id == sa.bindparam("k")) & (notices.c.kind == sa.bindparam("knd"))
)
# Only while still sending: a new due date confirmed meanwhile queued the e-mail again, and
# this outcome is of the e-mail for the date before.
_RECORD_UPDATE = _recording(
    updates, (updates.c.debt_id == sa.bindparam("k")) & (updates.c.status == SENDING)
)


class DeliveryStore(Store):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.outbox = OutboxStore(engine, outbox)

    def enqueue(self, mails: Sequence[BoletoMail]) -> int:
        """One pending delivery per debt; a debt already queued (a redelivered or re-sent
        event) is left as it is. Returns how many were new."""
        if not mails:
            return 0
        now = utc_now()
        traced = trace_context.current_text()
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
                "trace_context": traced,
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
        now = utc_now()
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
                    c.attempts_before_retry, c.trace_context,
                ).where(c.debt_id.in_(keys))
            ).all()  # fmt: skip
        return [
            Queued(
                BoletoMail(self._id(r[0]), *r[1:10]),
                attempts=r[10],
                attempts_before_retry=r[11],
                trace_context=r[12],
            )
            for r in rows
        ]

    def _claim_notices(self, limit: int, lease: dt.timedelta) -> list[Queued]:
        now = utc_now()
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
        now = utc_now()
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

    def record(self, outcomes: Sequence[Outcome], events: Sequence[Event]) -> None:
        """Stores the outcomes and the events that report them in one transaction: no
        outcome is kept without its events, nor an event sent for an outcome not kept."""
        if not outcomes and not events:
            return
        now = utc_now()
        n = notices.c
        boletos = [o for o in outcomes if o.kind == BOLETO]
        kept = [o for o in outcomes if o.kind not in (BOLETO, UPDATED) and not o.dropped]
        dropped = [o for o in outcomes if o.kind not in (BOLETO, UPDATED) and o.dropped]
        kept_updates = [o for o in outcomes if o.kind == UPDATED and not o.dropped]
        dropped_updates = [o for o in outcomes if o.kind == UPDATED and o.dropped]
        u = updates.c
        with writing(self.engine) as conn:
            # One statement per table for the whole batch.
            for statement, done in (
                (_RECORD_BOLETO, boletos),
                (_RECORD_NOTICE, kept),
                (_RECORD_UPDATE, kept_updates),
            ):
                if not done:
                    continue
                conn.execute(
                    statement,
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
                            "now": now,
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
            cursor = raw_cursor(conn)
            insert_events(cursor, conn.dialect.name, events)

    def release(self, keys: Sequence[DeliveryKey]) -> None:
        """Hands claimed deliveries that were never tried back to the queue, due now and with
        their attempt given back: a stopping sender's unsent share goes to the others at once
        instead of waiting out its lease."""
        if not keys:
            return
        now = utc_now()
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
                    .values(due_at=utc_now() + lease)
                ).rowcount
        return renewed

    def retry_failed(self, upload_id: str, include_uncertain: bool = False) -> int:
        """Failed deliveries of the upload, of every kind, back to pending, each with a fresh
        retry budget; the attempts already made stay counted. Uncertain ones only when asked.
        A notice of a boleto settled meanwhile is dropped when claimed, not sent."""
        now = utc_now()
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


def _table(kind: DeliveryKind) -> sa.Table:
    if kind == BOLETO:
        return deliveries
    return updates if kind == UPDATED else notices


def _by_kind(keys: Iterable[tuple[Any, int]]) -> list[tuple[DeliveryKind, list[Any]]]:
    grouped: dict[DeliveryKind, list[Any]] = {}
    for key, kind in keys:
        grouped.setdefault(DeliveryKind(kind), []).append(key)
    return list(grouped.items())
