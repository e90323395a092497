"""The ingest store's operations: uploads, block writes, row errors, outbox, progress."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boletos.platform.database import writing
from boletos.platform.outbox import OutboxStore
from ingest_service.domain.errors import ErrorCode, RowError
from ingest_service.domain.payments import Payment
from ingest_service.domain.report import Failure, ReportLine
from ingest_service.domain.upload import BlockCounts, Upload, UploadState
from ingest_service.store import payments, progress, report
from ingest_service.store.completion import Announce, complete_settled
from ingest_service.store.debt_writer import DebtWriter
from ingest_service.store.rows import upload_from_row as _upload
from ingest_service.store.tables import outbox, row_errors, uploads


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class BlockTransaction:
    """Writes of one or more blocks, committed together: debts, errors, outbox events and
    counters, so that a commit never separates a debt from the event announcing it."""

    def __init__(self, conn: Connection, expect_known: bool) -> None:
        self._conn = conn
        self._tx = conn.begin()
        self.debts = DebtWriter(conn, expect_known)

    def commit(self) -> None:
        try:
            self._tx.commit()
        finally:
            self._conn.close()

    def rollback(self) -> None:
        try:
            self._tx.rollback()
        finally:
            self._conn.close()

    def add_events(self, upload_no: int, events: Sequence[tuple[str, str, bytes]]) -> None:
        if events:
            self.debts.insert_events(events)

    def add_counts(self, upload_no: int, counts: BlockCounts) -> None:
        c = uploads.c
        self._conn.execute(
            uploads.update()
            .where(c.upload_no == upload_no)
            .values(
                rows=c.rows + counts.rows,
                accepted=c.accepted + counts.accepted,
                duplicates=c.duplicates + counts.duplicates,
                conflicts=c.conflicts + counts.conflicts,
                rejected=c.rejected + counts.rejected,
                bytes_received=counts.bytes_received,
                errors_listed=counts.errors_listed,
                errors_unlisted=json.dumps(dict(counts.errors_unlisted)),
            )
        )

    def upload_ids(self, upload_nos: set[int]) -> dict[int, str]:
        if not upload_nos:
            return {}
        rows = self._conn.execute(
            sa.select(uploads.c.upload_no, uploads.c.upload_id).where(
                uploads.c.upload_no.in_(upload_nos)
            )
        )
        return {no: uid for no, uid in rows}


class IngestStore:
    def __init__(
        self, engine: Engine, announce_completed: Announce, bulk_engine: Engine | None = None
    ) -> None:
        """`announce_completed` encodes the event that says an upload settled; it is
        written in the transaction that finds the upload settled."""
        self.engine = engine
        # This process, as the receiver of the uploads it creates.
        self.receiver = str(uuid.uuid4())
        self._bulk_engine = bulk_engine or engine
        self._announce = announce_completed
        self.outbox = OutboxStore(engine, outbox)

    # -- uploads -------------------------------------------------------------------------

    def create_upload(
        self,
        file_name: str,
        client_request_id: str,
        owner: str = "",
        beneficiary: str = "default",
    ) -> Upload:
        upload_id = str(uuid.uuid4())
        with self._writing() as conn:
            conn.execute(
                uploads.insert().values(
                    upload_id=upload_id,
                    file_name=file_name,
                    client_request_id=client_request_id,
                    owner=owner,
                    beneficiary=beneficiary,
                    state=int(UploadState.RECEIVING),
                    rows=0,
                    accepted=0,
                    duplicates=0,
                    conflicts=0,
                    rejected=0,
                    bytes_received=0,
                    rejection_reason="",
                    boletos_issued=0,
                    boletos_failed=0,
                    emails_sent=0,
                    emails_failed=0,
                    boletos_paid=0,
                    paid_cents=0,
                    created_at=_now(),
                    receiver=self.receiver,
                    alive_at=_now(),
                )
            )
        upload = self.get_upload(upload_id)
        assert upload is not None
        return upload

    def get_upload(self, upload_id: str) -> Upload | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(uploads).where(uploads.c.upload_id == upload_id)).first()
        return _upload(row) if row else None

    def completed_upload_for_request(
        self, client_request_id: str, owner: str = ""
    ) -> Upload | None:
        """Request ids are the sender's own: another credential's id names nothing here."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(uploads)
                .where(
                    uploads.c.client_request_id == client_request_id,
                    uploads.c.owner == owner,
                    uploads.c.state == int(UploadState.COMPLETED),
                )
                .order_by(uploads.c.upload_no.desc())
                .limit(1)
            ).first()
        return _upload(row) if row else None

    def list_uploads(
        self,
        limit: int,
        before_no: int | None,
        owner: str | None = None,
        beneficiary: str = "",
    ) -> list[Upload]:
        """Newest first; only `owner`'s, and only `beneficiary`'s, when given."""
        query = sa.select(uploads).order_by(uploads.c.upload_no.desc()).limit(limit)
        if before_no is not None:
            query = query.where(uploads.c.upload_no < before_no)
        if owner is not None:
            query = query.where(uploads.c.owner == owner)
        if beneficiary:
            query = query.where(uploads.c.beneficiary == beneficiary)
        with self.engine.connect() as conn:
            return [_upload(r) for r in conn.execute(query)]

    def finish_upload(
        self, upload_no: int, state: UploadState, reason: str = "", content_sha256: str = ""
    ) -> None:
        with self._writing() as conn:
            conn.execute(
                uploads.update()
                .where(uploads.c.upload_no == upload_no)
                .values(
                    state=int(state),
                    rejection_reason=reason,
                    finished_at=_now(),
                    content_sha256=content_sha256,
                )
            )
            # With nothing accepted, or a pipeline faster than the last commit, the upload
            # is settled the moment it ends.
            complete_settled(conn, uploads.c.upload_no == upload_no, self._announce)

    def keep_receiving(self) -> None:
        """Says this process is still receiving its uploads."""
        c = uploads.c
        with self._writing() as conn:
            conn.execute(
                uploads.update()
                .where(c.receiver == self.receiver, c.state == int(UploadState.RECEIVING))
                .values(alive_at=_now())
            )

    def interrupt_abandoned(self, stale: dt.timedelta) -> list[Upload]:
        """Uploads still receiving whose receiver has not said so for `stale`: it died with
        them. They end interrupted, keeping every row they made durable."""
        c = uploads.c
        now = _now()
        abandoned = sa.and_(c.state == int(UploadState.RECEIVING), c.alive_at < now - stale)
        with self._writing() as conn:
            found = conn.execute(
                uploads.update()
                .where(abandoned)
                .values(state=int(UploadState.INTERRUPTED), finished_at=now)
                .returning(c.upload_no)
            ).all()
            numbers = [row.upload_no for row in found]
            if numbers:
                complete_settled(conn, c.upload_no.in_(numbers), self._announce)
            rows = conn.execute(sa.select(uploads).where(c.upload_no.in_(numbers))).all()
        return [_upload(row) for row in rows]

    # -- row errors ----------------------------------------------------------------------

    def first_errors(self, upload_no: int, limit: int) -> list[RowError]:
        return next(self.iter_row_errors(upload_no, limit), [])[:limit]

    def iter_row_errors(self, upload_no: int, batch: int = 1000) -> Iterator[list[RowError]]:
        c = row_errors.c
        after = (-1, -1)
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(c.line, c.id, c.column_name, c.code, c.message)
                    .where(
                        c.upload_no == upload_no,
                        sa.or_(c.line > after[0], sa.and_(c.line == after[0], c.id > after[1])),
                    )
                    .order_by(c.line, c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield [RowError(r.line, r.column_name, ErrorCode(r.code), r.message) for r in rows]
            after = (rows[-1].line, rows[-1].id)

    # -- report ----------------------------------------------------------------------------

    def iter_report(self, upload_no: int, batch: int = 1000) -> Iterator[list[ReportLine]]:
        return report.iter_report(self.engine, upload_no, batch)

    def first_failures(self, upload_no: int, limit: int) -> list[Failure]:
        return report.first_failures(self.engine, upload_no, limit)

    # -- block writes --------------------------------------------------------------------

    def begin_blocks(self, expect_known: bool = False) -> BlockTransaction:
        conn = self._bulk_engine.connect()
        conn.execution_options(sqlite_begin="IMMEDIATE")
        return BlockTransaction(conn, expect_known)

    def _writing(self) -> AbstractContextManager[Connection]:
        return writing(self.engine)

    # -- progress reported by the other services -----------------------------------------

    def record_stage(
        self, stage: str, outcome: int, items: Sequence[tuple[str, str, str]]
    ) -> dict[str, int]:
        """See progress.record_stage; an upload this settles is announced in the same
        transaction. On the bulk engine: each event moves debts all over the id index, which
        an ordinary connection's cache holds only for a file of a few hundred thousand."""
        with writing(self._bulk_engine) as conn:
            moved = progress.record_stage(conn, stage, outcome, items)
            settling = [upload_id for upload_id, count in moved.items() if count]
            if settling:
                complete_settled(conn, uploads.c.upload_id.in_(settling), self._announce)
            return moved

    def record_payments(self, paid: Sequence[Payment]) -> payments.RecordedPayments:
        """See payments.record_payments. A payment settles nothing: an upload settles on
        its boletos and e-mails, long before the bank pays."""
        with self._writing() as conn:
            return payments.record_payments(conn, paid)
