"""The UploadCompleted event: announced once an upload settles, read by the notifiers."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from boletos.platform.nats_streams import SUBJECT_UPLOAD_COMPLETED
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2
from ingest_service.domain.upload import Upload


def upload_completed(upload: Upload, completed_at: dt.datetime) -> Event:
    """(subject, Nats-Msg-Id, payload); one id per upload, so a repeat is dropped."""
    message = events_pb2.UploadCompleted(
        upload_id=upload.upload_id,
        file_name=upload.file_name,
        client_request_id=upload.client_request_id,
        rows=upload.rows,
        accepted=upload.accepted,
        duplicates=upload.duplicates,
        conflicts=upload.conflicts,
        rejected=upload.rejected,
        boletos_issued=upload.boletos_issued,
        boletos_failed=upload.boletos_failed,
        emails_sent=upload.emails_sent,
        emails_failed=upload.emails_failed,
        rejection_reason=upload.rejection_reason,
        created_at=_timestamp(upload.created_at),
        completed_at=_timestamp(completed_at),
    )
    return (
        SUBJECT_UPLOAD_COMPLETED,
        f"upload-completed:{upload.upload_id}",
        message.SerializeToString(),
    )


def _timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
