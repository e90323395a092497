"""The boleto store's side of a retorno: whether its bank is one this service has boletos of,
a batch of occurrences applied in one transaction, and the file itself recorded once it is
whole.

A batch reads the states of the boletos it names (locked on PostgreSQL, so two files naming
the same boleto at once take turns instead of one overwriting the other's change) and the
occurrence keys already stored, lets `bank_status.plan_batch` decide, and writes the recorded
occurrences, the new states and their events (through the outbox) together: after a crash a
batch is either wholly there or not at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from boleto_service.domain.bank_status import (
    BatchPlan,
    Finished,
    Tracked,
    describe,
    occurrence_key,
    plan_batch,
    reasons_text,
)
from boleto_service.domain.boleto import BankState, BankStatus
from boleto_service.domain.cnab240.retorno import Occurrence
from boleto_service.domain.instructions import InstructionKind, InstructionState, answer, redated
from boleto_service.store.tables import boletos, instructions, occurrences, retornos
from boletos.platform.database import raw_cursor, writing
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_REDATED
from boletos.platform.outbox import Event, insert_events
from boletos.v1 import events_pb2

log = get_logger("boleto")

_IN_LIST = 900
_VALUES_LIST = 5_000
# A batch that meets another writer's row (a deadlock between two files naming the same
# boletos in another order, an occurrence key stored meanwhile) is read and planned again.
ATTEMPTS = 4

Events = Callable[[BatchPlan], list[Event]]

_UPDATE = (
    boletos.update()
    .where(boletos.c.debt_id == sa.bindparam("k"))
    .values(
        bank_status=sa.bindparam("s"),
        paid_cents=sa.bindparam("pc"),
        paid_on=sa.bindparam("po"),
        fee_cents=sa.bindparam("fc"),
        bank_reason=sa.bindparam("r"),
        bank_status_at=sa.bindparam("at"),
    )
)


class RetornoStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def summary(self, retorno_id: str) -> str | None:
        """The stored summary (JSON) of the file's first processing, if it was processed."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(retornos.c.summary).where(retornos.c.retorno_id == retorno_id)
            ).scalar_one_or_none()

    def serves_bank(self, bank_code: str) -> bool:
        """Whether any boleto here is of the bank: a retorno of another is not this service's.
        One probe of the (bank, nosso número) index."""
        b = boletos.c
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(b.bank_code).where(b.bank_code == bank_code).limit(1))
            return found.first() is not None

    def apply_batch(
        self, batch: Sequence[Occurrence], retorno_id: str, at: dt.datetime, events: Events
    ) -> BatchPlan:
        """Records the batch's occurrences not seen before and the status changes they make,
        with the events `events(plan)` gives for them, in one transaction."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with writing(self.engine) as conn:
                    return self._apply(conn, batch, retorno_id, at, events)
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                if attempt == ATTEMPTS or not _retryable(exc):
                    raise
                log.info("retorno.batch_retried", retorno_id=retorno_id, attempt=attempt)
        raise AssertionError("unreachable")

    def finish(
        self,
        retorno_id: str,
        file_name: str,
        bank_code: str,
        nsa: int | None,
        summary: str,
        at: dt.datetime,
    ) -> Finished:
        """Records the file as processed with its summary, unless another call on the same
        file finished before."""
        insert = (postgresql.insert if not self._sqlite else sqlite.insert)(retornos)
        statement = insert.values(
            retorno_id=retorno_id,
            file_name=file_name[:256],
            bank_code=bank_code,
            nsa=nsa,
            summary=summary,
            processed_at=at,
        ).on_conflict_do_nothing(index_elements=["retorno_id"])
        with writing(self.engine) as conn:
            if conn.execute(statement.returning(retornos.c.retorno_id)).first() is not None:
                return Finished(summary, by_this_call=True)
        earlier = self.summary(retorno_id)
        assert earlier is not None, "a retorno refused as recorded is recorded"
        return Finished(earlier, by_this_call=False)

    def _apply(
        self,
        conn: Connection,
        batch: Sequence[Occurrence],
        retorno_id: str,
        at: dt.datetime,
        events: Events,
    ) -> BatchPlan:
        found = self._boletos(conn, {(o.bank_code, o.nosso_numero) for o in batch})
        plan = plan_batch(batch, found, self._known(conn, batch, found), at)
        if plan.recorded:
            conn.execute(
                occurrences.insert(),
                [
                    {
                        "occurrence_key": r.key,
                        "debt_id": self._key(r.debt_id),
                        "retorno_id": retorno_id,
                        "line": r.occurrence.line_number,
                        "code": r.occurrence.code,
                        "outcome": r.occurrence.outcome.value,
                        "reasons": reasons_text(r.occurrence),
                        "paid_cents": r.occurrence.paid_cents,
                        "fee_cents": r.occurrence.fee_cents,
                        "occurred_on": r.occurrence.occurrence_date,
                        "recorded_at": at,
                    }
                    for r in plan.recorded
                ],
            )
        if plan.states:
            conn.execute(
                _UPDATE,
                [
                    {
                        "k": self._key(t.debt_id),
                        "s": int(t.state.status),
                        "pc": t.state.paid_cents,
                        "po": t.state.paid_on,
                        "fc": t.state.fee_cents,
                        "r": t.state.reason,
                        "at": t.state.changed_at,
                    }
                    for t in plan.states.values()
                ],
            )
        self._answer_instructions(conn, plan, at)
        produced = events(plan)
        if produced:
            cursor = raw_cursor(conn)
            insert_events(cursor, conn.dialect.name, produced)
        return plan

    def _answer_instructions(self, conn: Connection, plan: BatchPlan, at: dt.datetime) -> None:
        """The bank's answer to an instruction it was sent: confirmed or rejected, and a
        confirmed new due date carried onto the boleto's printed numbers and announced
        (BoletosRedated) for the mailer to e-mail the updated boleto."""
        t, b = instructions.c, boletos.c
        redates: list[Event] = []
        for r in plan.recorded:
            answered = answer(r.occurrence.outcome)
            if answered is None:
                continue
            kind, state = answered
            key = self._key(r.debt_id)
            waiting = [t.debt_id == key, t.state == int(InstructionState.SENT)]
            if kind is not None:
                waiting.append(t.kind == int(kind))
            found = conn.execute(
                sa.select(t.instruction_id, t.kind, t.new_due_date)
                .where(*waiting)
                .order_by(t.requested_at, t.instruction_id)
                .limit(1)
            ).first()
            if found is None:
                continue  # the bank's own baixa, or an instruction made elsewhere
            o = r.occurrence
            conn.execute(
                instructions.update()
                .where(t.instruction_id == found.instruction_id)
                .values(
                    state=int(state),
                    answered_at=at,
                    reason="; ".join(x for x in (describe(o), reasons_text(o)) if x),
                )
            )
            new_date = found.new_due_date
            if (
                state is InstructionState.CONFIRMED
                and found.kind == int(InstructionKind.DUE_DATE)
                and new_date is not None
            ):
                row = conn.execute(
                    sa.select(b.barcode, b.upload_id, b.amount_cents, b.pix_payload).where(
                        b.debt_id == key
                    )
                ).one()
                moved, linha = redated(row.barcode, new_date)
                conn.execute(
                    boletos.update()
                    .where(b.debt_id == key)
                    .values(due_date=new_date, barcode=moved, digitable_line=linha)
                )
                event = events_pb2.RedatedBoleto(
                    debt_id=r.debt_id,
                    upload_id=row.upload_id,
                    due_date=new_date.isoformat(),
                    digitable_line=linha,
                    amount_cents=row.amount_cents,
                    pix_payload=row.pix_payload,
                    instruction_id=found.instruction_id,
                )
                event.answered_at.FromDatetime(at)
                redates.append(
                    (
                        SUBJECT_BOLETOS_REDATED,
                        # Per instruction: the mailer e-mails the updated boleto once for it,
                        # and the broker drops a repeat however the outbox publishes it.
                        f"boletos-redated:{found.instruction_id}",
                        events_pb2.BoletosRedated(boletos=[event]).SerializeToString(),
                    )
                )
                log.info(
                    "retorno.boleto_redated",
                    debt_id=r.debt_id,
                    upload_id=row.upload_id,
                    instruction_id=found.instruction_id,
                )
        if redates:
            # In this transaction: the debtor hears of the new date if and only if it stands.
            cursor = raw_cursor(conn)
            insert_events(cursor, conn.dialect.name, redates)

    def _boletos(
        self, conn: Connection, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], Tracked]:
        """The named boletos' states. Locked in one global order (bank, nosso número), so
        two batches wanting some of the same rows never wait on each other in a circle."""
        b = boletos.c
        columns = (
            b.debt_id, b.upload_id, b.bank_code, b.nosso_numero, b.amount_cents, b.bank_status,
            b.paid_cents, b.paid_on, b.fee_cents, b.bank_reason, b.bank_status_at,
        )  # fmt: skip
        found: dict[tuple[str, str], Tracked] = {}
        ordered = sorted(wanted)
        size = _IN_LIST if self._sqlite else _VALUES_LIST
        for start in range(0, len(ordered), size):
            part = ordered[start : start + size]
            if self._sqlite:
                queries = [
                    sa.select(*columns)
                    .where(
                        b.bank_code == bank, b.nosso_numero.in_([n for c, n in part if c == bank])
                    )
                    .order_by(b.nosso_numero)
                    for bank in sorted({bank for bank, _ in part})
                ]
            else:
                # Joined to the list rather than filtered by IN: without fresh statistics the
                # planner reads an IN on the index's second column as a scan of every boleto
                # of the bank; a join probes the unique index once per title.
                wanted_rows = sa.values(
                    sa.column("bank", sa.String), sa.column("nosso", sa.String), name="wanted"
                ).data(part)
                on = sa.and_(
                    b.bank_code == wanted_rows.c.bank, b.nosso_numero == wanted_rows.c.nosso
                )
                queries = [
                    sa.select(*columns)
                    .select_from(boletos.join(wanted_rows, on))
                    .order_by(b.bank_code, b.nosso_numero)
                    .with_for_update(of=boletos)
                ]
            for query in queries:
                for row in conn.execute(query):
                    found[(row.bank_code, row.nosso_numero)] = Tracked(
                        debt_id=_debt_id(row.debt_id),
                        upload_id=row.upload_id,
                        amount_cents=row.amount_cents,
                        state=bank_state(row._mapping),
                    )
        return found

    def _known(
        self,
        conn: Connection,
        batch: Sequence[Occurrence],
        found: dict[tuple[str, str], Tracked],
    ) -> set[str]:
        keys = sorted({occurrence_key(o) for o in batch if (o.bank_code, o.nosso_numero) in found})
        known: set[str] = set()
        c = occurrences.c
        for start in range(0, len(keys), _IN_LIST):
            rows = conn.execute(
                sa.select(c.occurrence_key).where(
                    c.occurrence_key.in_(keys[start : start + _IN_LIST])
                )
            )
            known.update(key for (key,) in rows)
        return known

    def _key(self, debt_id: str) -> bytes | str:
        return uuid.UUID(debt_id).bytes if self._sqlite else debt_id


def bank_state(m: Any) -> BankState:
    """A boletos row's bank columns as a BankState."""
    at = m["bank_status_at"]
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; all is UTC
    return BankState(
        status=BankStatus(m["bank_status"]),
        paid_cents=m["paid_cents"],
        paid_on=m["paid_on"],
        fee_cents=m["fee_cents"],
        reason=m["bank_reason"],
        changed_at=at,
    )


def _debt_id(key: bytes | str | uuid.UUID) -> str:
    return str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key)


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    # PostgreSQL: deadlock_detected, serialization_failure.
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")
