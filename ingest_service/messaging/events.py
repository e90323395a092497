"""Builds the DebtsImported events that announce accepted debts.

Bodies are built where rows are validated, before anyone knows which rows are new; the
writer then stamps each with its upload and sequence. Protobuf merges concatenated
encodings of a message, so stamping is a byte concatenation, and a body whose rows were
not all new is rebuilt from the ones that were.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED
from boletos.v1 import events_pb2
from ingest_service.domain.government_id import classify
from ingest_service.domain.validation import ValidRow

# Keeps each message near 100 KB, far below the stream's message size limit.
DEBTS_PER_EVENT = 1000

_OTHER = events_pb2.GOVERNMENT_ID_KIND_OTHER


def event_bodies(rows: Sequence[ValidRow], per_event: int = DEBTS_PER_EVENT) -> list[bytes]:
    """One encoded DebtsImported (debts only) per slice of `per_event` rows."""
    bodies = []
    for start in range(0, len(rows), per_event):
        message = events_pb2.DebtsImported()
        add = message.debts.add
        for debt_id, name, government_id, email, cents, due, line, _hash in rows[
            start : start + per_event
        ]:
            # Only 11- and 14-digit ids can be a CPF or CNPJ; skip the check for the rest.
            kind = int(classify(government_id)) if len(government_id) in (11, 14) else _OTHER
            add(
                debt_id=debt_id,
                name=name,
                government_id=government_id,
                email=email,
                amount_cents=cents,
                due_date=due,
                line=line,
                government_id_kind=kind,
            )
        bodies.append(message.SerializeToString())
    return bodies


def keep_only(body: bytes, lines: Collection[int]) -> bytes:
    """The body with only the debts from the given lines (a line is one row; an id is not,
    when a file repeats it)."""
    message = events_pb2.DebtsImported.FromString(body)
    kept = [d for d in message.debts if d.line in lines]
    return events_pb2.DebtsImported(debts=kept).SerializeToString()


def stamped(upload_id: str, seq: int, body: bytes) -> tuple[str, str, bytes]:
    """(subject, Nats-Msg-Id, payload); the id is stable across retries of the publish."""
    head = events_pb2.DebtsImported(upload_id=upload_id, batch_seq=seq).SerializeToString()
    return SUBJECT_DEBTS_IMPORTED, f"debts-imported:{upload_id}:{seq}", head + body
