"""The events ingest announces: DebtsImported for accepted debts, UploadCompleted once an
upload settles. Encoding only; they reach NATS through the outbox.

DebtsImported bodies are built where rows are validated, before anyone knows which rows are
new; the writer then stamps each with its upload and sequence. Protobuf merges concatenated
encodings of a message, so stamping is a byte concatenation, and a body whose rows were not
all new is rebuilt from the ones that were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from google.protobuf.timestamp_pb2 import Timestamp

from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED, SUBJECT_UPLOAD_COMPLETED
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2
from ingest_service.domain.columns import ValidRow
from ingest_service.domain.government_id import classify
from ingest_service.domain.upload import Upload

# Keeps each message near 100 KB, far below the stream's message size limit.
DEBTS_PER_EVENT = 1000

_OTHER = events_pb2.GOVERNMENT_ID_KIND_OTHER


def event_bodies(rows: Sequence[ValidRow], per_event: int = DEBTS_PER_EVENT) -> list[bytes]:
    """One encoded DebtsImported (debts only) per slice of `per_event` rows."""
    bodies = []
    for start in range(0, len(rows), per_event):
        message = events_pb2.DebtsImported()
        add = message.debts.add
        # Spelled out field by field: building a dict of keywords per row cost more than the
        # rest of the encoding (a test holds every ValidRow field to reach the event).
        for (
            name, government_id, email, amount_cents, due_date, debt_id,
            address, district, zip_code, city, state, discount_cents, discount_until, line,
            _hash,
        ) in rows[start : start + per_event]:  # fmt: skip
            # Only 11- and 14-digit ids can be a CPF or CNPJ; skip the check for the rest.
            kind = int(classify(government_id)) if len(government_id) in (11, 14) else _OTHER
            if address or discount_cents:
                add(
                    debt_id=debt_id, name=name, government_id=government_id, email=email,
                    amount_cents=amount_cents, due_date=due_date, line=line,
                    government_id_kind=kind, address=address, district=district,
                    zip_code=zip_code, city=city, state=state, discount_cents=discount_cents,
                    discount_until=discount_until,
                )  # fmt: skip
            else:
                add(
                    debt_id=debt_id, name=name, government_id=government_id, email=email,
                    amount_cents=amount_cents, due_date=due_date, line=line,
                    government_id_kind=kind,
                )  # fmt: skip
        bodies.append(message.SerializeToString())
    return bodies


def keep_only(body: bytes, lines: Collection[int]) -> bytes:
    """The body with only the debts from the given lines (a line is one row; an id is not,
    when a file repeats it)."""
    message = events_pb2.DebtsImported.FromString(body)
    kept = [d for d in message.debts if d.line in lines]
    return events_pb2.DebtsImported(debts=kept).SerializeToString()


def stamped(upload_id: str, seq: int, body: bytes, beneficiary: str = "") -> Event:
    """(subject, Nats-Msg-Id, payload); the id is stable across retries of the publish."""
    head = events_pb2.DebtsImported(
        upload_id=upload_id, batch_seq=seq, beneficiary=beneficiary
    ).SerializeToString()
    return SUBJECT_DEBTS_IMPORTED, f"debts-imported:{upload_id}:{seq}", head + body


def upload_completed(upload: Upload, completed_at: dt.datetime) -> Event:
    """One id per upload, so a repeat is dropped."""
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
