"""Maps stored rows to domain values."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from ingest_service.domain.upload import Upload, UploadState


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def upload_from_row(row: sa.Row) -> Upload:
    m = row._mapping
    return Upload(
        upload_no=m["upload_no"],
        upload_id=m["upload_id"],
        file_name=m["file_name"],
        client_request_id=m["client_request_id"],
        state=UploadState(m["state"]),
        rows=m["rows"],
        accepted=m["accepted"],
        duplicates=m["duplicates"],
        conflicts=m["conflicts"],
        rejected=m["rejected"],
        bytes_received=m["bytes_received"],
        rejection_reason=m["rejection_reason"],
        created_at=as_utc(m["created_at"]),  # type: ignore[arg-type]
        finished_at=as_utc(m["finished_at"]),
        boletos_issued=m["boletos_issued"],
        boletos_failed=m["boletos_failed"],
        emails_sent=m["emails_sent"],
        emails_failed=m["emails_failed"],
        boletos_paid=m["boletos_paid"],
        paid_cents=m["paid_cents"],
        completed_at=as_utc(m["completed_at"]),
        content_sha256=m["content_sha256"],
        owner=m["owner"],
        beneficiary=m["beneficiary"],
        errors_listed=m["errors_listed"],
        errors_unlisted=tuple(
            sorted((int(code), count) for code, count in json.loads(m["errors_unlisted"]).items())
        ),
    )
