"""Records the payments the bank reported on the debts they pay, and each upload's paid
counters.

Idempotent per debt: a payment is written only onto a debt that has none, by a conditional
UPDATE that says whether it wrote. A payment heard of again (redelivered, from a retorno
processed twice, or by two replicas at once: the second waits on the row lock, then finds
it paid) writes nothing and counts nothing. Counters move by what was written, in the same
transaction, so they never drift from the debts.

Payments go through the DBAPI cursor, as the report's reads do: at hundreds of thousands of
payments a day, building statements through SQLAlchemy would cost more than the writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from boletos.platform.database import prefer_index_probes, raw_cursor
from ingest_service.domain.payments import Payment, Tally, tally
from ingest_service.store.tables import debts, uploads

# Payments per PostgreSQL statement: bounds the arrays sent in one go.
PG_CHUNK = 5000

_SQLITE_PAY = (
    "UPDATE debts SET paid_cents = ?, paid_on = ? "
    "WHERE debt_id = ? AND paid_cents IS NULL RETURNING upload_no"
)

# Ids go as hex text and come back as positions, as in the report's lookup. The planner
# cannot see the arrays' length: the caller has it probe the index (prefer_index_probes).
_PG_PAY = """
UPDATE debts d SET paid_cents = v.paid, paid_on = v.day::date
FROM unnest(%s::uuid[], %s::bigint[], %s::text[]) WITH ORDINALITY AS v(id, paid, day, i)
WHERE d.debt_id = v.id AND d.paid_cents IS NULL
RETURNING v.i, d.upload_no
"""


@dataclass(frozen=True, slots=True)
class RecordedPayments:
    # Per upload_no: the debts paid for the first time now, and their sum.
    by_upload: dict[int, Tally] = field(default_factory=dict)
    # Debts already paid before: the payment was heard of again.
    already_paid: int = 0
    # Debt ids (16 bytes) this store does not know.
    unknown: list[bytes] = field(default_factory=list)

    @property
    def debts(self) -> int:
        return sum(t.debts for t in self.by_upload.values())

    @property
    def cents(self) -> int:
        return sum(t.cents for t in self.by_upload.values())


def record_payments(conn: Connection, payments: Sequence[Payment]) -> RecordedPayments:
    """Writes each payment onto its debt unless the debt is paid already, and adds the new
    ones to the counters of the upload that accepted each debt. `payments` name each debt
    once (see domain.payments.read_payments)."""
    if not payments:
        return RecordedPayments()
    # One order for every writer: two replicas paying overlapping debts lock them in the
    # same order and wait for each other instead of deadlocking.
    ordered = sorted(payments, key=lambda p: p.key)
    sqlite = conn.dialect.name == "sqlite"
    cursor = raw_cursor(conn)
    try:
        if sqlite:
            recorded, unmatched = _pay_sqlite(cursor, ordered)
        else:
            prefer_index_probes(cursor)
            recorded, unmatched = _pay_postgres(cursor, ordered)
    finally:
        cursor.close()
    by_upload = tally(recorded)
    if by_upload:
        conn.execute(
            uploads.update()
            .where(uploads.c.upload_no == sa.bindparam("no"))
            .values(
                boletos_paid=uploads.c.boletos_paid + sa.bindparam("n"),
                paid_cents=uploads.c.paid_cents + sa.bindparam("c"),
            ),
            [{"no": no, "n": t.debts, "c": t.cents} for no, t in sorted(by_upload.items())],
        )
    known = _known(conn, unmatched) if unmatched else set()
    return RecordedPayments(
        by_upload=by_upload,
        already_paid=len(known),
        unknown=[k for k in unmatched if k not in known],
    )


def _pay_sqlite(
    cursor: Any, payments: Sequence[Payment]
) -> tuple[list[tuple[int, int]], list[bytes]]:
    # One statement per payment: SQLite runs in-process, so a primary-key probe per row is
    # the cheapest plan and needs no planner's guess.
    recorded: list[tuple[int, int]] = []
    unmatched: list[bytes] = []
    execute = cursor.execute
    for p in payments:
        day = p.paid_on.isoformat() if p.paid_on is not None else None
        row = execute(_SQLITE_PAY, (p.paid_cents, day, p.key)).fetchone()
        if row is None:
            unmatched.append(p.key)
        else:
            recorded.append((row[0], p.paid_cents))
    return recorded, unmatched


def _pay_postgres(
    cursor: Any, payments: Sequence[Payment]
) -> tuple[list[tuple[int, int]], list[bytes]]:
    recorded: list[tuple[int, int]] = []
    unmatched: list[bytes] = []
    execute = cursor.execute
    fetchall = cursor.fetchall
    for start in range(0, len(payments), PG_CHUNK):
        chunk = payments[start : start + PG_CHUNK]
        execute(
            _PG_PAY,
            (
                [p.key.hex() for p in chunk],
                [p.paid_cents for p in chunk],
                [p.paid_on.isoformat() if p.paid_on is not None else None for p in chunk],
            ),
        )
        written = {i - 1: upload_no for i, upload_no in fetchall()}
        for i, p in enumerate(chunk):
            upload_no = written.get(i)
            if upload_no is None:
                unmatched.append(p.key)
            else:
                recorded.append((upload_no, p.paid_cents))
    return recorded, unmatched


def _known(conn: Connection, keys: Sequence[bytes]) -> set[bytes]:
    """Which of `keys` the store knows. Only payments that wrote nothing are asked about:
    usually a few repeats and strays; a whole retorno sent again, once, at about the cost
    of its first writes."""
    sqlite = conn.dialect.name == "sqlite"
    found: set[bytes] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        bound = list(chunk) if sqlite else [str(uuid.UUID(bytes=k)) for k in chunk]
        for (debt_id,) in conn.execute(
            sa.select(debts.c.debt_id).where(debts.c.debt_id.in_(bound))
        ):
            found.add(debt_id if isinstance(debt_id, bytes) else uuid.UUID(str(debt_id)).bytes)
    return found
