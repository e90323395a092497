"""The mailer store's operations: queue deliveries once, claim them, record outcomes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from boletos.platform.database import writing
from boletos.platform.nats_streams import SUBJECT_EMAILS_FAILED, SUBJECT_EMAILS_SENT
from boletos.platform.outbox import Event, OutboxStore, insert_events
from boletos.v1 import events_pb2
from mailer_service.domain.boleto_mail import BoletoMail
from mailer_service.domain.delivery import DeliveryRecord, DeliveryStatus, Outcome, Queued
from mailer_service.store.tables import deliveries, outbox

PENDING, SENDING, SENT, FAILED, UNCERTAIN = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNCERTAIN,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
            }
            for m in mails
        ]
        dialect = sqlite if self._sqlite else postgresql
        insert = dialect.insert(deliveries).on_conflict_do_nothing(index_elements=["debt_id"])
        with writing(self.engine) as conn:
            return conn.execute(insert, rows).rowcount

    def claim(self, limit: int, lease: dt.timedelta) -> list[Queued]:
        """Marks up to `limit` due deliveries as sending, leased until now + lease. A lease
        that ran out belongs to a sender that died: the delivery is claimed again."""
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

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Stores the outcomes and their EmailsSent / EmailsFailed events together."""
        if not outcomes:
            return
        now = _now()
        c = deliveries.c
        sent = [o for o in outcomes if o.status == SENT]
        # An uncertain e-mail is reported with the failures: a person has to look at it.
        failed = [o for o in outcomes if o.status in (FAILED, UNCERTAIN)]
        with writing(self.engine) as conn:
            # One statement for the whole batch; a message id is only ever set, never cleared.
            conn.execute(
                deliveries.update()
                .where(c.debt_id == sa.bindparam("k"))
                .values(
                    status=sa.bindparam("s"),
                    message_id=sa.func.coalesce(sa.bindparam("m"), c.message_id),
                    last_error=sa.bindparam("e"),
                    smtp_code=sa.bindparam("code"),
                    due_at=sa.bindparam("due"),
                    attempts=c.attempts - sa.bindparam("refund"),
                    updated_at=now,
                ),
                [
                    {
                        "k": self._key(o.debt_id),
                        "s": o.status,
                        "m": o.message_id or None,
                        "e": o.error,
                        "code": o.smtp_code,
                        "due": o.retry_at or now,
                        "refund": int(o.refund_attempt),
                    }
                    for o in outcomes
                ],
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
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            insert_events(cursor, conn.dialect.name, events)

    def release(self, debt_ids: Sequence[str]) -> None:
        """Hands claimed deliveries that were never tried back to the queue, due now and with
        their attempt given back: a stopping sender's unsent share goes to the others at once
        instead of waiting out its lease."""
        if not debt_ids:
            return
        c = deliveries.c
        now = _now()
        with writing(self.engine) as conn:
            conn.execute(
                deliveries.update()
                .where(c.debt_id.in_([self._key(d) for d in debt_ids]), c.status == SENDING)
                .values(status=PENDING, attempts=c.attempts - 1, due_at=now, updated_at=now)
            )

    def renew(self, debt_ids: Sequence[str], lease: dt.timedelta) -> int:
        """Extends the lease of deliveries still being sent: a live sender keeps what it
        claimed however slow the SMTP server is."""
        if not debt_ids:
            return 0
        c = deliveries.c
        with writing(self.engine) as conn:
            return conn.execute(
                deliveries.update()
                .where(c.debt_id.in_([self._key(d) for d in debt_ids]), c.status == SENDING)
                .values(due_at=_now() + lease)
            ).rowcount

    def retry_failed(self, upload_id: str, include_uncertain: bool = False) -> int:
        """Failed deliveries of the upload back to pending, each with a fresh retry budget;
        the attempts already made stay counted. Uncertain ones only when asked."""
        c = deliveries.c
        now = _now()
        statuses = [FAILED, UNCERTAIN] if include_uncertain else [FAILED]
        with writing(self.engine) as conn:
            return conn.execute(
                deliveries.update()
                .where(c.upload_id == upload_id, c.status.in_(statuses))
                .values(
                    status=PENDING, attempts_before_retry=c.attempts, due_at=now, updated_at=now
                )
            ).rowcount

    def knows_upload(self, upload_id: str) -> bool:
        """Whether any boleto of the upload reached the mailer."""
        c = deliveries.c
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(c.debt_id).where(c.upload_id == upload_id).limit(1))
            return found.first() is not None

    def get(self, debt_id: str) -> DeliveryRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                self._record_query().where(deliveries.c.debt_id == self._key(debt_id))
            ).first()
        return self._record(row) if row else None

    def list_for_upload(
        self, upload_id: str, status: int, after_line: int, limit: int
    ) -> list[DeliveryRecord]:
        """An upload's deliveries in file line order, after `after_line`."""
        c = deliveries.c
        query = (
            self._record_query()
            .where(c.upload_id == upload_id, c.line > after_line)
            .order_by(c.line)
            .limit(limit)
        )
        if status:
            query = query.where(c.status == status)
        with self.engine.connect() as conn:
            return [self._record(r) for r in conn.execute(query)]

    def counts(self) -> dict[int, int]:
        c = deliveries.c
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(c.status, sa.func.count()).group_by(c.status)).all())

    def _record_query(self) -> sa.Select[Any]:
        c = deliveries.c
        return sa.select(
            c.debt_id, c.upload_id, c.email, c.status, c.attempts, c.last_error, c.smtp_code,
            c.message_id, c.updated_at, c.line,
        )  # fmt: skip

    def _record(self, row: sa.Row[Any]) -> DeliveryRecord:
        debt_id, upload_id, email, status, attempts, error, code, message_id, updated, line = tuple(
            row
        )
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; all is UTC
        return DeliveryRecord(
            self._id(debt_id), upload_id, email, DeliveryStatus(status), attempts, error, code,
            message_id, updated, line,
        )  # fmt: skip

    def _key(self, debt_id: str) -> bytes | str:
        return uuid.UUID(debt_id).bytes if self._sqlite else debt_id

    def _id(self, key: object) -> str:
        return str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key)
