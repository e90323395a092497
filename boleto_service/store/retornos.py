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
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from boletos.platform.database import (
    prefer_index_probes,
    raw_cursor,
    sqlite_date,
    sqlite_datetime,
    writing,
)
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_REDATED
from boletos.platform.outbox import Event, insert_events
from boletos.v1 import events_pb2

log = get_logger("boleto")

_IN_LIST = 900
_ARRAY_LIST = 5_000
# A batch that meets another writer's row (a deadlock between two files naming the same
# boletos in another order, an occurrence key stored meanwhile) is read and planned again.
ATTEMPTS = 4

Events = Callable[[BatchPlan], list[Event]]

# Driver SQL: at a million occurrences a day, SQLAlchemy compiling and binding every row cost
# more than the database's own work.
_OCCURRENCE_COLUMNS = (
    "occurrence_key", "debt_id", "retorno_id", "line", "code", "outcome", "reasons",
    "paid_cents", "fee_cents", "occurred_on", "recorded_at",
)  # fmt: skip
_STATE_COLUMNS = (
    "bank_status", "paid_cents", "paid_on", "fee_cents", "bank_reason", "bank_status_at",
)  # fmt: skip


def _sqlite_statements() -> tuple[str, str]:
    """(insert the occurrences, update the boletos' bank states), a row per execution: on
    SQLite an executemany stays inside the process."""
    insert = (
        f"INSERT INTO {occurrences.name} ({', '.join(_OCCURRENCE_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(_OCCURRENCE_COLUMNS))})"
    )
    update = (
        f"UPDATE {boletos.name} SET {', '.join(f'{c} = ?' for c in _STATE_COLUMNS)}"
        " WHERE debt_id = ?"
    )
    return insert, update


def _postgres_statements() -> tuple[str, str]:
    """The same, each a single statement over arrays, a column per array: one round trip for
    the batch instead of one per row."""
    insert = (
        f"INSERT INTO {occurrences.name} ({', '.join(_OCCURRENCE_COLUMNS)})"
        f" SELECT * FROM unnest({_arrays(occurrences, _OCCURRENCE_COLUMNS)})"
    )
    update = (
        f"UPDATE {boletos.name} AS b SET {', '.join(f'{c} = u.{c}' for c in _STATE_COLUMNS)}"
        f" FROM unnest({_arrays(boletos, (*_STATE_COLUMNS, 'debt_id'))})"
        f" AS u({', '.join((*_STATE_COLUMNS, 'debt_id'))}) WHERE b.debt_id = u.debt_id"
    )
    return insert, update


def _arrays(table: sa.Table, columns: Sequence[str]) -> str:
    dialect = postgresql.dialect()
    return ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)


# The batch's boletos, locked in one global order; the caller has the planner probe the
# unique (bank, nosso número) index per title (it cannot see the arrays' length).
_LOCK_WANTED = f"""
SELECT b.debt_id, b.upload_id, b.amount_cents, b.bank_code, b.nosso_numero, b.bank_status,
       b.paid_cents, b.paid_on, b.fee_cents, b.bank_reason, b.bank_status_at
FROM unnest(%s::varchar[], %s::varchar[]) AS w(bank, nosso)
JOIN {boletos.name} b ON b.bank_code = w.bank AND b.nosso_numero = w.nosso
ORDER BY b.bank_code, b.nosso_numero
FOR UPDATE OF b
"""


def _same(value: Any) -> Any:
    return value


class RetornoStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._insert_occurrence, self._update_state = (
            _sqlite_statements() if self._sqlite else _postgres_statements()
        )
        self._day = sqlite_date if self._sqlite else _same
        self._moment = sqlite_datetime if self._sqlite else _same

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
        day, moment, key = self._day, self._moment, self._key
        recorded_at = moment(at)
        if plan.recorded:
            self._write(
                conn,
                self._insert_occurrence,
                [
                    (
                        r.key, key(r.debt_id), retorno_id, o.line_number, o.code, o.outcome.value,
                        reasons_text(o), o.paid_cents, o.fee_cents, day(o.occurrence_date),
                        recorded_at,
                    )
                    for r in plan.recorded
                    for o in (r.occurrence,)
                ],
            )  # fmt: skip
        if plan.states:
            self._write(
                conn,
                self._update_state,
                [
                    (
                        int(s.status), s.paid_cents, day(s.paid_on), s.fee_cents, s.reason,
                        moment(s.changed_at), key(t.debt_id),
                    )
                    for t in plan.states.values()
                    for s in (t.state,)
                ],
            )  # fmt: skip
        self._answer_instructions(conn, plan, at)
        produced = events(plan)
        if produced:
            insert_events(raw_cursor(conn), conn.dialect.name, produced)
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
        ordered = sorted(wanted)
        rows: Iterable[Sequence[Any]]
        if self._sqlite:
            rows = self._sqlite_boletos(conn, ordered)
        else:
            # Joined to the arrays rather than filtered by IN: an IN on the index's second
            # column reads as a scan of every boleto of the bank without fresh statistics.
            prefer_index_probes(raw_cursor(conn))
            rows = (
                row
                for start in range(0, len(ordered), _ARRAY_LIST)
                for part in (ordered[start : start + _ARRAY_LIST],)
                for row in conn.exec_driver_sql(
                    _LOCK_WANTED, ([bank for bank, _ in part], [n for _, n in part])
                )
            )
        return {
            (row[3], row[4]): Tracked(
                debt_id=_debt_id(row[0]),
                upload_id=row[1],
                amount_cents=row[2],
                state=_bank_state(*row[5:]),
            )
            for row in rows
        }

    def _sqlite_boletos(
        self, conn: Connection, ordered: list[tuple[str, str]]
    ) -> Iterator[Sequence[Any]]:
        b = boletos.c
        columns = (
            b.debt_id, b.upload_id, b.amount_cents, b.bank_code, b.nosso_numero, b.bank_status,
            b.paid_cents, b.paid_on, b.fee_cents, b.bank_reason, b.bank_status_at,
        )  # fmt: skip
        for start in range(0, len(ordered), _IN_LIST):
            part = ordered[start : start + _IN_LIST]
            for bank in sorted({bank for bank, _ in part}):
                numbers = [n for c, n in part if c == bank]
                yield from conn.execute(
                    sa.select(*columns)
                    .where(b.bank_code == bank, b.nosso_numero.in_(numbers))
                    .order_by(b.nosso_numero)
                )

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

    def _write(self, conn: Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """Driver SQL through SQLAlchemy, whose errors (a lost race) apply_batch retries."""
        if self._sqlite:
            conn.exec_driver_sql(statement, rows)
        else:
            conn.exec_driver_sql(
                statement, tuple(list(column) for column in zip(*rows, strict=True))
            )

    def _key(self, debt_id: str) -> bytes | str:
        return uuid.UUID(debt_id).bytes if self._sqlite else debt_id


def bank_state(m: Any) -> BankState:
    """A boletos row's bank columns as a BankState."""
    return _bank_state(
        m["bank_status"],
        m["paid_cents"],
        m["paid_on"],
        m["fee_cents"],
        m["bank_reason"],
        m["bank_status_at"],
    )


def _bank_state(
    status: int,
    paid_cents: int | None,
    paid_on: dt.date | None,
    fee_cents: int | None,
    reason: str,
    at: dt.datetime | None,
) -> BankState:
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; all is UTC
    return BankState(
        status=BankStatus(status),
        paid_cents=paid_cents,
        paid_on=paid_on,
        fee_cents=fee_cents,
        reason=reason,
        changed_at=at,
    )


def _debt_id(key: bytes | str | uuid.UUID) -> str:
    return str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key)


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    # PostgreSQL: deadlock_detected, serialization_failure.
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")
