"""Maps domain values to their protobuf messages."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from boletos.v1 import ingest_pb2
from ingest_service.domain.errors import RowError
from ingest_service.domain.report import ReportLine
from ingest_service.domain.upload import Upload


def row_error(e: RowError) -> ingest_pb2.RowError:
    return ingest_pb2.RowError(line=e.line, column=e.column, code=_wire(e.code), message=e.message)


def report_line(r: ReportLine) -> ingest_pb2.ReportLine:
    return ingest_pb2.ReportLine(
        line=r.line,
        debt_id=r.debt_id,
        outcome=_wire(r.outcome),
        boleto_status=_wire(r.boleto),
        nosso_numero=r.nosso_numero,
        email_status=_wire(r.email),
        error=r.error,
        paid_cents=r.paid_cents,
        paid_on=r.paid_on,
    )


def summary(upload: Upload, first_errors: list[RowError]) -> ingest_pb2.UploadSummary:
    message = ingest_pb2.UploadSummary(
        upload_id=upload.upload_id,
        file_name=upload.file_name,
        client_request_id=upload.client_request_id,
        state=_wire(upload.state),
        rows=upload.rows,
        accepted=upload.accepted,
        duplicates=upload.duplicates,
        conflicts=upload.conflicts,
        rejected=upload.rejected,
        first_errors=[row_error(e) for e in first_errors],
        rejection_reason=upload.rejection_reason,
        bytes_received=upload.bytes_received,
        errors_listed=upload.errors_listed,
        beneficiary=upload.beneficiary,
        errors_unlisted=[
            ingest_pb2.RowErrorCount(code=code, count=count)  # type: ignore[arg-type]
            for code, count in upload.errors_unlisted
        ],
    )
    message.created_at.CopyFrom(_timestamp(upload.created_at))
    if upload.finished_at is not None:
        message.finished_at.CopyFrom(_timestamp(upload.finished_at))
    return message


def progress(upload: Upload) -> ingest_pb2.UploadProgress:
    return ingest_pb2.UploadProgress(
        upload_id=upload.upload_id,
        state=_wire(upload.state),
        rows=upload.rows,
        accepted=upload.accepted,
        boletos_issued=upload.boletos_issued,
        boletos_failed=upload.boletos_failed,
        emails_sent=upload.emails_sent,
        emails_failed=upload.emails_failed,
        settled=upload.settled,
        boletos_paid=upload.boletos_paid,
        paid_cents=upload.paid_cents,
    )


def _timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _wire(value: IntEnum) -> Any:
    """A domain enum as its protobuf twin: the numbers are the contract on both sides."""
    return int(value)
