"""The instructions store: each request recorded once; a write-off of a boleto no remessa
carries yet settled here, in the same transaction that keeps it out of every remessa."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boleto_service.domain.boleto import BankStatus, Boleto
from boleto_service.domain.instructions import (
    Instruction,
    InstructionKind,
    InstructionState,
    Request,
)
from boleto_service.store.remessas import NOT_REGISTRABLE
from boleto_service.store.tables import boletos, instructions, remessas
from boletos.platform.database import raw_cursor, writing
from boletos.platform.outbox import Event, insert_events

WRITTEN_OFF_HERE = "written off before it was sent to the bank"


class InstructionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def request(
        self,
        boleto: Boleto,
        request: Request,
        requested_by: str,
        now: dt.datetime,
        settle_here: bool,
        settled_events: Sequence[Event] = (),
    ) -> tuple[Instruction, bool]:
        """(the instruction, whether this call made it): the same request again returns the
        one made first. With `settle_here`, a write-off of a boleto still in no remessa is
        applied at once, with `settled_events`, unless a remessa took the boleto meanwhile
        (then it waits for the next remessa like any other)."""
        key = f"{boleto.debt_id}:{request.key}"
        t = instructions.c
        with writing(self.engine) as conn:
            found = conn.execute(sa.select(instructions).where(t.request_key == key)).first()
            if found is not None:
                return self._record(conn, found), False
            state = InstructionState.REQUESTED
            if settle_here and self._write_off_unsent(conn, boleto, now):
                state = InstructionState.CONFIRMED
                cursor = raw_cursor(conn)
                insert_events(cursor, conn.dialect.name, settled_events)
            instruction_id = str(uuid.uuid4())
            conn.execute(
                instructions.insert().values(
                    instruction_id=instruction_id,
                    request_key=key,
                    debt_id=self._key(boleto.debt_id),
                    beneficiary=boleto.beneficiary,
                    kind=int(request.kind),
                    new_due_date=request.new_due_date,
                    rebate_cents=request.rebate_cents,
                    state=int(state),
                    requested_by=requested_by,
                    requested_at=self._stamp(now),
                    answered_at=self._stamp(now) if state is InstructionState.CONFIRMED else None,
                    reason=WRITTEN_OFF_HERE if state is InstructionState.CONFIRMED else "",
                )
            )
            row = conn.execute(
                sa.select(instructions).where(t.instruction_id == instruction_id)
            ).one()
            return self._record(conn, row), True

    def find(self, debt_id: str, request: Request) -> Instruction | None:
        """The instruction the same request made before, if any."""
        t = instructions.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(instructions).where(t.request_key == f"{debt_id}:{request.key}")
            ).first()
            return self._record(conn, row) if row is not None else None

    def of_debt(self, debt_id: str) -> list[Instruction]:
        t = instructions.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(instructions)
                .where(t.debt_id == self._key(debt_id))
                .order_by(t.requested_at, t.instruction_id)
            ).all()
            return [self._record(conn, r) for r in rows]

    def _write_off_unsent(self, conn: Connection, boleto: Boleto, now: dt.datetime) -> bool:
        b = boletos.c
        taken = conn.execute(
            boletos.update()
            .where(b.debt_id == self._key(boleto.debt_id), b.remessa_no.is_(None))
            .values(
                remessa_no=NOT_REGISTRABLE,
                bank_status=int(BankStatus.WRITTEN_OFF),
                bank_reason=WRITTEN_OFF_HERE,
                bank_status_at=self._stamp(now),
            )
        ).rowcount
        return bool(taken)

    def _record(self, conn: Connection, row: sa.Row[Any]) -> Instruction:
        m = row._mapping
        remessa_id = ""
        if m["remessa_no"]:
            remessa_id = (
                conn.execute(
                    sa.select(remessas.c.remessa_id).where(remessas.c.remessa_no == m["remessa_no"])
                ).scalar()
                or ""
            )
        key = m["debt_id"]
        return Instruction(
            instruction_id=m["instruction_id"],
            debt_id=str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key),
            beneficiary=m["beneficiary"],
            kind=InstructionKind(m["kind"]),
            state=InstructionState(m["state"]),
            requested_at=_utc(m["requested_at"]),
            requested_by=m["requested_by"],
            new_due_date=m["new_due_date"],
            rebate_cents=m["rebate_cents"],
            remessa_id=remessa_id,
            answered_at=_utc(m["answered_at"]) if m["answered_at"] is not None else None,
            reason=m["reason"],
        )

    def _key(self, debt_id: str) -> bytes | str:
        return uuid.UUID(debt_id).bytes if self._sqlite else debt_id

    def _stamp(self, moment: dt.datetime) -> dt.datetime:
        utc = moment.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if self._sqlite else utc


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
