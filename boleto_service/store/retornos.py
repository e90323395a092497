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
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

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
from boleto_service.domain.cnab240.retorno import Occurrence, Outcome
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
_WANTED_AT_ONCE = 5_000
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
    """(insert the occurrences, update the boletos' bank states by rowid), a row per
    execution: on SQLite an executemany stays inside the process."""
    insert = (
        f"INSERT INTO {occurrences.name} ({', '.join(_OCCURRENCE_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(_OCCURRENCE_COLUMNS))})"
    )
    # By rowid: the batch's lookup read it, and the table's own b-tree is probed once
    # instead of the primary key's index and then the table.
    update = (
        f"UPDATE {boletos.name} SET {', '.join(f'{c} = ?' for c in _STATE_COLUMNS)} WHERE rowid = ?"
    )
    return insert, update


def _postgres_statements() -> tuple[str, str]:
    """The same, each a single statement over the batch's rows sent as one JSON array of
    rows: one round trip for the batch instead of one per row, and one text for the driver
    to send (a list per column costs the driver more, element by element, than the
    database's own work). As jsonb, parsed once: json's ->> would parse each row again for
    every column."""
    insert = (
        f"INSERT INTO {occurrences.name} ({', '.join(_OCCURRENCE_COLUMNS)})"
        f" SELECT {_json_fields(occurrences, _OCCURRENCE_COLUMNS)}"
        " FROM jsonb_array_elements(%s::jsonb) AS r(v)"
    )
    columns = (*_STATE_COLUMNS, "debt_id")
    update = (
        f"UPDATE {boletos.name} AS b SET {', '.join(f'{c} = u.{c}' for c in _STATE_COLUMNS)}"
        f" FROM (SELECT {_json_fields(boletos, columns)}"
        " FROM jsonb_array_elements(%s::jsonb) AS r(v)) AS u WHERE b.debt_id = u.debt_id"
    )
    return insert, update


def _json_fields(table: sa.Table, columns: Sequence[str]) -> str:
    """The columns of a JSON row `v` (an array, in the order of `columns`), each cast to its
    column's type."""
    dialect = postgresql.dialect()
    return ", ".join(
        f"(v->>{i})::{table.c[c].type.compile(dialect=dialect)} AS {c}"
        for i, c in enumerate(columns)
    )


# The batch's boletos, locked in one global order; the caller has the planner probe the
# unique (bank, nosso número) index per title (it cannot see the arrays' length).
_LOCK_WANTED = f"""
SELECT b.debt_id::text, b.debt_id::text, b.upload_id, b.amount_cents, b.bank_code,
       b.nosso_numero, b.bank_status, b.paid_cents, b.paid_on, b.fee_cents, b.bank_reason,
       b.bank_status_at
FROM jsonb_array_elements(%s::jsonb) AS w(v)
JOIN {boletos.name} b ON b.bank_code = w.v->>0 AND b.nosso_numero = w.v->>1
ORDER BY b.bank_code, b.nosso_numero
FOR UPDATE OF b
"""


# The same columns on SQLite, with the rowid the batch's updates find each row by.
_SQLITE_WANTED = f"""
SELECT rowid, debt_id, upload_id, amount_cents, bank_code, nosso_numero, bank_status,
       paid_cents, paid_on, fee_cents, bank_reason, bank_status_at
FROM {boletos.name}
WHERE bank_code = ? AND nosso_numero IN ({{marks}})
ORDER BY nosso_numero
"""
_SQLITE_STATUS_MOVED = (
    f"UPDATE {boletos.name} SET bank_status = ?, bank_status_at = ? WHERE rowid = ?"
)
_SQLITE_KNOWN = f"SELECT occurrence_key FROM {occurrences.name} WHERE occurrence_key IN ({{marks}})"
_POSTGRES_KNOWN = (
    f"SELECT o.occurrence_key FROM jsonb_array_elements_text(%s::jsonb) AS k(key)"
    f" JOIN {occurrences.name} o ON o.occurrence_key = k.key"
)


def _same(value: Any) -> Any:
    return value


class RetornoStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._insert_occurrence, self._update_state = (
            _sqlite_statements() if self._sqlite else _postgres_statements()
        )
        # Days and moments as the writes send them: SQLAlchemy's text on SQLite, ISO 8601 in
        # PostgreSQL's JSON rows.
        self._day = sqlite_date
        self._moment = sqlite_datetime if self._sqlite else _iso_moment
        # Rows read as the driver gives them: on SQLite, ids as 16 bytes and days as text.
        self._debt_id = _uuid_text if self._sqlite else _same
        self._read_day = _date_text if self._sqlite else _same
        self._read_moment = _moment_text if self._sqlite else _same

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
        found, ids = self._boletos(conn, batch)
        plan = plan_batch(batch, found, self._known(conn, batch, found), at)
        day = _memo(self._day)
        recorded_at = self._moment(at)
        if plan.recorded:
            self._write(
                conn,
                self._insert_occurrence,
                [
                    (
                        r.key, ids[r.debt_id].key, retorno_id, o.line_number, o.code,
                        _OUTCOME_VALUES[o.outcome], reasons_text(o) if o.reasons else "",
                        o.paid_cents, o.fee_cents, day(o.occurrence_date), recorded_at,
                    )
                    for r in plan.recorded
                    for o in (r.occurrence,)
                ],
            )  # fmt: skip
        if plan.states:
            self._write_states(conn, plan, ids, at, recorded_at, day)
        self._answer_instructions(conn, plan, at, ids)
        produced = events(plan)
        if produced:
            insert_events(raw_cursor(conn), conn.dialect.name, produced)
        return plan

    def _write_states(
        self,
        conn: Connection,
        plan: BatchPlan,
        ids: dict[str, _Ids],
        at: dt.datetime,
        recorded_at: Any,
        day: Callable[[Any], Any],
    ) -> None:
        moment = self._moment
        rows = []
        moved: list[tuple[Any, ...]] = []  # on SQLite, the rows whose status alone moved
        for t in plan.states.values():
            s = t.state
            changed_at = recorded_at if s.changed_at is at else moment(s.changed_at)
            was = ids[t.debt_id].state
            if self._sqlite and (s.paid_cents, s.paid_on, s.fee_cents, s.reason) == (
                was.paid_cents, was.paid_on, was.fee_cents, was.reason
            ):  # fmt: skip
                # A registration: two columns bound instead of six, about two thirds of the
                # time a row takes.
                moved.append((int(s.status), changed_at, ids[t.debt_id].row))
                continue
            rows.append(
                (
                    int(s.status), s.paid_cents, day(s.paid_on), s.fee_cents, s.reason,
                    changed_at, ids[t.debt_id].row,
                )
            )  # fmt: skip
        if rows:
            self._write(conn, self._update_state, rows)
        if moved:
            self._write(conn, _SQLITE_STATUS_MOVED, moved)

    def _answer_instructions(
        self, conn: Connection, plan: BatchPlan, at: dt.datetime, ids: dict[str, _Ids]
    ) -> None:
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
            key = ids[r.debt_id].key
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
        self, conn: Connection, batch: Sequence[Occurrence]
    ) -> tuple[dict[tuple[str, str], Tracked], dict[str, _Ids]]:
        """The named boletos' states, and how the batch's writes name each row. Locked in one
        global order (bank, nosso número), so two batches wanting some of the same rows never
        wait on each other in a circle."""
        wanted = sorted({(o.bank_code, o.nosso_numero) for o in batch})
        rows: Iterable[Sequence[Any]]
        if self._sqlite:
            rows = self._sqlite_boletos(conn, wanted)
        else:
            # Joined to the JSON rows rather than filtered by IN: an IN on the index's second
            # column reads as a scan of every boleto of the bank without fresh statistics.
            prefer_index_probes(raw_cursor(conn))
            rows = (
                row
                for start in range(0, len(wanted), _WANTED_AT_ONCE)
                for part in (wanted[start : start + _WANTED_AT_ONCE],)
                for row in conn.exec_driver_sql(_LOCK_WANTED, (json.dumps(part),)).fetchall()
            )
        found: dict[tuple[str, str], Tracked] = {}
        ids: dict[str, _Ids] = {}
        debt_id_of, day, moment = self._debt_id, self._read_day, self._read_moment
        for row in rows:
            debt_id = debt_id_of(row[1])
            status, paid_cents, paid_on, fee_cents, reason, changed_at = row[6:]
            if (status, paid_cents, paid_on, fee_cents, reason, changed_at) == _ISSUED_ROW:
                state = _ISSUED  # what nearly every boleto a retorno names first is
            else:
                state = _bank_state(
                    status, paid_cents, day(paid_on), fee_cents, reason, moment(changed_at)
                )
            found[(row[4], row[5])] = Tracked(debt_id, row[2], row[3], state)
            ids[debt_id] = _Ids(row[0], row[1], state)
        return found, ids

    def _sqlite_boletos(
        self, conn: Connection, wanted: list[tuple[str, str]]
    ) -> Iterator[Sequence[Any]]:
        for start in range(0, len(wanted), _IN_LIST):
            part = wanted[start : start + _IN_LIST]
            for bank in sorted({bank for bank, _ in part}):
                numbers = tuple(n for c, n in part if c == bank)
                statement = _SQLITE_WANTED.format(marks=", ".join("?" * len(numbers)))
                yield from conn.exec_driver_sql(statement, (bank, *numbers)).fetchall()

    def _known(
        self,
        conn: Connection,
        batch: Sequence[Occurrence],
        found: dict[tuple[str, str], Tracked],
    ) -> set[str]:
        keys = sorted({occurrence_key(o) for o in batch if (o.bank_code, o.nosso_numero) in found})
        known: set[str] = set()
        if not self._sqlite:
            if keys:
                found_keys = conn.exec_driver_sql(_POSTGRES_KNOWN, (json.dumps(keys),))
                known.update(k for (k,) in found_keys)
            return known
        for start in range(0, len(keys), _IN_LIST):
            part = tuple(keys[start : start + _IN_LIST])
            statement = _SQLITE_KNOWN.format(marks=", ".join("?" * len(part)))
            known.update(k for (k,) in conn.exec_driver_sql(statement, part))
        return known

    def _write(self, conn: Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """Driver SQL through SQLAlchemy, whose errors (a lost race) apply_batch retries."""
        conn.exec_driver_sql(statement, rows if self._sqlite else (json.dumps(rows),))


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


def _uuid_text(key: bytes) -> str:
    """str(uuid.UUID(bytes=key)) for less: a batch names thousands."""
    h = key.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Ids(NamedTuple):
    """How a batch's writes name a boleto's row, and its bank state as read."""

    row: Any  # in its UPDATE: the rowid on SQLite, the debt id on PostgreSQL
    key: Any  # in an occurrence: the debt_id column's own value
    state: BankState


_ISSUED = BankState()
# Outcome.value is a property lookup; a batch reads it on every row.
_OUTCOME_VALUES = {outcome: outcome.value for outcome in Outcome}
_ISSUED_ROW = (int(BankStatus.ISSUED), None, None, None, "", None)


def _memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert` remembering its answers: a batch's dates are a handful, each on thousands
    of rows."""
    done: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        try:
            return done[value]
        except KeyError:
            done[value] = result = convert(value)
            return result

    return converted


def _iso_moment(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _date_text(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _moment_text(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    # PostgreSQL: deadlock_detected, serialization_failure.
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")
