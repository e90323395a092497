"""Remessas in the boleto store: cutting one (a remessas row and the boletos it carries, in one
transaction) and reading them back.

A boleto goes into exactly one remessa, ever: the cut's UPDATE only takes boletos whose
remessa_no is still NULL, so two replicas cutting at once can never both take one (on
PostgreSQL the second one's UPDATE waits for the first's row locks, then finds the column set
and skips the row; SQLite runs one writer at a time). NSAs are max + 1 per account under the
unique constraint uq_remessas_nsa: a cutter that raced another for a number gets an integrity
error and takes the next one.
"""

from __future__ import annotations

import datetime as dt
import functools
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boleto_service.domain.boleto import payer_address
from boleto_service.domain.cnab240 import RemessaPayer, RemessaTitle
from boleto_service.domain.cnab240.remessa import payer_id_kind
from boleto_service.domain.discounts import discount_holding, discount_of
from boleto_service.domain.instructions import InstructionKind, InstructionState
from boleto_service.domain.remessa_policy import (
    Account,
    Cut,
    CutInProgress,
    Lock,
    RemessaRecord,
    Take,
    file_name,
    next_nsa,
    remessa_id,
)
from boleto_service.store.tables import ADDRESS_COLUMNS, boletos, instructions, remessas
from boletos.platform.database import raw_cursor, writing

# remessa_no of a boleto no bank can register (no CPF or CNPJ, say): it is in no remessa and
# never will be, and later cuts no longer look at it.
NOT_REGISTRABLE = 0
# bank_reason of a boleto left out of every remessa, before the reason's metric label.
LEFT_OUT = "left out: "

# One key for every replica of the service: on PostgreSQL one of them cuts at a time.
_LOCK_KEY = zlib.crc32(b"boleto_service.remessas")
# Each failed attempt means a racing cutter committed a remessa first (it took the number this
# one wanted), so the attempts end with the waiting boletos; this only bounds a pathology.
_NSA_ATTEMPTS = 50
_IN_LIST = 900

_TITLE_COLUMNS = [
    boletos.c.sequence,
    boletos.c.nosso_numero,
    boletos.c.due_date,
    boletos.c.amount_cents,
    boletos.c.issue_date,
    boletos.c.payer_name,
    boletos.c.payer_government_id,
    boletos.c.government_id_kind,
    *ADDRESS_COLUMNS,
    boletos.c.discount_cents,
    boletos.c.discount_until,
]


class _NothingToCut(Exception):
    pass


class RemessaStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def cut(
        self,
        account: Account,
        *,
        limit: int,
        now: dt.datetime,
        take: Take,
        upload_id: str | None = None,
        issued_before: dt.datetime | None = None,
        lock: Lock = Lock.WAIT,
        entries: bool = True,
    ) -> Cut | None:
        """Takes up to `limit` waiting boletos of the account's bank, oldest sequence first
        (only the upload's, with `upload_id`; only those issued before `issued_before`, with
        it), into a new remessa created at `now`: each goes to `take`, and those it refuses
        are marked NOT_REGISTRABLE instead. The beneficiary's waiting instructions go in too
        (only they, with `entries` off). None when nothing was waiting; CutInProgress when
        another replica holds the cut and `lock` is TRY."""
        try:
            with writing(self.engine) as conn:
                return self._cut(
                    conn, account, limit, now, take, upload_id, issued_before, lock, entries
                )
        except _NothingToCut:
            return None

    def _cut(
        self,
        conn: Connection,
        account: Account,
        limit: int,
        now: dt.datetime,
        take: Take,
        upload_id: str | None,
        issued_before: dt.datetime | None,
        lock: Lock,
        entries: bool,
    ) -> Cut:
        if conn.dialect.name == "postgresql" and lock is not Lock.NONE:
            if lock is Lock.WAIT:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            elif not conn.execute(
                sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
            ).scalar_one():
                raise CutInProgress
        c = remessas.c
        created_at = now.astimezone(dt.UTC)
        number, nsa = self._numbered(conn, account, upload_id, created_at)
        b = boletos.c
        waiting = [
            b.remessa_no.is_(None),
            b.bank_code == account.bank_code,
            b.beneficiary == account.beneficiary,
        ]
        if upload_id is not None:
            waiting.append(b.upload_id == upload_id)
        if issued_before is not None:
            waiting.append(b.issued_at < self._stamp(issued_before))
        taken = 0
        if entries:
            # On SQLite by rowid: each row is found in the table's own b-tree, not through
            # the sequence's index first (a sixth of the UPDATE).
            key = _ROWID if self._sqlite else b.sequence
            window = sa.select(key).where(*waiting).order_by(b.sequence).limit(limit)
            taken = conn.execute(
                boletos.update()
                .where(b.remessa_no.is_(None), key.in_(window))
                .values(remessa_no=number)
            ).rowcount
        instructed = self._take_instructions(conn, account, number, limit - taken)
        if not taken and not instructed:
            raise _NothingToCut
        titles = amount = 0
        refused: dict[str, list[int]] = {}
        left_out: Counter[str] = Counter()
        # The driver's cursor: SQLAlchemy's rows cost more than everything else a title does.
        # Row by row, so a cut holds no more than one title at a time.
        cursor = raw_cursor(conn)
        cursor.execute(_literal(conn, _entries(number)))
        for row in cursor:
            title = _title(row)
            reason = take(title)
            if reason is None:
                titles += 1
                amount += title.amount_cents
            else:
                refused.setdefault(reason, []).append(row[0])
                left_out[reason] += 1
        for reason, sequences in refused.items():
            for start in range(0, len(sequences), _IN_LIST):
                conn.execute(
                    boletos.update()
                    .where(b.sequence.in_(sequences[start : start + _IN_LIST]))
                    .values(remessa_no=NOT_REGISTRABLE, bank_reason=LEFT_OUT + reason)
                )
        for instruction_id, title in instructed:
            reason = take(title)
            if reason is not None:
                # Requests are checked when they are made: only a hand-edited store gets here.
                raise RuntimeError(f"instruction {instruction_id} cannot go to the bank: {reason}")
            titles += 1
            amount += title.amount_cents
        if not titles:
            conn.execute(remessas.delete().where(c.remessa_no == number))
            return Cut(None, left_out)
        conn.execute(
            remessas.update()
            .where(c.remessa_no == number)
            .values(titles=titles, amount_cents=amount)
        )
        record = RemessaRecord(
            remessa_no=number,
            remessa_id=remessa_id(account, nsa),
            account=account,
            nsa=nsa,
            upload_id=upload_id,
            titles=titles,
            amount_cents=amount,
            file_name=file_name(account, nsa),
            size_bytes=None,
            sha256=None,
            created_at=created_at,
            written_at=None,
        )
        return Cut(record, left_out)

    def _numbered(
        self, conn: Connection, account: Account, upload_id: str | None, created_at: dt.datetime
    ) -> tuple[int, int]:
        """The remessa's number and the account's next NSA, taken by inserting its row. A
        cutter that raced another for them (PostgreSQL, Lock.NONE: the insert waits for the
        other's commit, then breaks a unique constraint) takes the next ones, in a savepoint:
        before any title is taken, so `take` sees each title once."""
        c = remessas.c
        for attempt in range(_NSA_ATTEMPTS):
            number = (conn.execute(sa.select(sa.func.max(c.remessa_no))).scalar_one() or 0) + 1
            nsa = next_nsa(
                conn.execute(
                    sa.select(sa.func.max(c.nsa)).where(*_of_account(account))
                ).scalar_one()
            )
            try:
                with conn.begin_nested():
                    conn.execute(
                        remessas.insert().values(
                            remessa_no=number,
                            remessa_id=remessa_id(account, nsa),
                            bank_code=account.bank_code,
                            agencia=account.agencia,
                            conta=account.conta,
                            beneficiary=account.beneficiary,
                            nsa=nsa,
                            upload_id=upload_id,
                            titles=0,
                            amount_cents=0,
                            file_name=file_name(account, nsa),
                            created_at=self._stamp(created_at),
                        )
                    )
            except sa.exc.IntegrityError:
                if attempt == _NSA_ATTEMPTS - 1:
                    raise
                continue
            return number, nsa
        raise AssertionError("unreachable")

    def waiting_uploads(self, account: Account, quiet_before: dt.datetime | None) -> list[str]:
        """Uploads with boletos of the account's beneficiary and bank in no remessa yet,
        oldest first; with `quiet_before`, only those whose newest such boleto was issued
        before it."""
        b = boletos.c
        query = (
            sa.select(b.upload_id)
            .where(
                b.remessa_no.is_(None),
                b.bank_code == account.bank_code,
                b.beneficiary == account.beneficiary,
            )
            .group_by(b.upload_id)
            .order_by(sa.func.min(b.sequence))
        )
        if quiet_before is not None:
            query = query.having(sa.func.max(b.issued_at) < self._stamp(quiet_before))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def instructions_waiting(self, account: Account) -> bool:
        t = instructions.c
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(t.instruction_id)
                .where(
                    t.state == int(InstructionState.REQUESTED),
                    t.beneficiary == account.beneficiary,
                )
                .limit(1)
            ).first()
        return found is not None

    def left_out(self) -> dict[str, int]:
        """Boletos no remessa will carry (remessa_no 0), by the reason they were left out."""
        b = boletos.c
        query = (
            sa.select(b.bank_reason, sa.func.count())
            .where(b.remessa_no == NOT_REGISTRABLE)
            .group_by(b.bank_reason)
        )
        with self.engine.connect() as conn:
            return {
                reason.removeprefix(LEFT_OUT) or "unknown": count
                for reason, count in conn.execute(query)
            }

    def titles_of(self, remessa_no: int) -> list[RemessaTitle]:
        """The titles of a remessa, in the order its file lists them: entries, then
        instructions."""
        t = instructions.c
        with self.engine.connect() as conn:
            titles = [_title(row) for row in conn.execute(_entries(remessa_no))]
            rows = conn.execute(
                sa.select(*_TITLE_COLUMNS, *_INSTRUCTION_COLUMNS)
                .select_from(_INSTRUCTED)
                .where(t.remessa_no == remessa_no)
                .order_by(t.requested_at, t.instruction_id)
            )
            return titles + [_instruction_title(row) for row in rows]

    def _take_instructions(
        self, conn: Connection, account: Account, number: int, limit: int
    ) -> list[tuple[str, RemessaTitle]]:
        """The waiting instructions of the account's beneficiary whose boleto's entry went in
        an earlier remessa, at most one per boleto (a file names a title once), marked sent
        in remessa `number`."""
        if limit <= 0:
            return []
        b, t = boletos.c, instructions.c
        rows = conn.execute(
            # The title's columns first: _title reads them by position.
            sa.select(*_TITLE_COLUMNS, *_INSTRUCTION_COLUMNS, t.instruction_id, b.debt_id)
            .select_from(_INSTRUCTED)
            .where(
                t.state == int(InstructionState.REQUESTED),
                t.beneficiary == account.beneficiary,
                b.bank_code == account.bank_code,
                b.remessa_no > NOT_REGISTRABLE,
                b.remessa_no < number,
            )
            .order_by(t.requested_at, t.instruction_id)
        ).all()
        chosen: dict[object, Any] = {}
        for row in rows:
            if len(chosen) == limit:
                break
            chosen.setdefault(row.debt_id, row)
        if not chosen:
            return []
        ids = [row.instruction_id for row in chosen.values()]
        for start in range(0, len(ids), _IN_LIST):
            conn.execute(
                instructions.update()
                .where(t.instruction_id.in_(ids[start : start + _IN_LIST]))
                .values(state=int(InstructionState.SENT), remessa_no=number)
            )
        return [(row.instruction_id, _instruction_title(row)) for row in chosen.values()]

    def mark_written(
        self, remessa_no: int, size_bytes: int, sha256: str, written_at: dt.datetime
    ) -> None:
        with writing(self.engine) as conn:
            conn.execute(
                remessas.update()
                .where(remessas.c.remessa_no == remessa_no)
                .values(size_bytes=size_bytes, sha256=sha256, written_at=self._stamp(written_at))
            )

    def unwritten(self) -> list[RemessaRecord]:
        """Remessas committed whose file was never recorded as written, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(remessas)
                .where(remessas.c.written_at.is_(None))
                .order_by(remessas.c.remessa_no)
            )
            return [self._record(row) for row in rows]

    def find(self, remessa_id: str) -> RemessaRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(remessas).where(remessas.c.remessa_id == remessa_id)
            ).first()
        return self._record(row) if row is not None else None

    def page(self, before: int | None, limit: int, beneficiary: str = "") -> list[RemessaRecord]:
        """Newest first: up to `limit` remessas numbered below `before` (all, without it),
        only `beneficiary`'s when given."""
        query = sa.select(remessas).order_by(remessas.c.remessa_no.desc()).limit(limit)
        if before is not None:
            query = query.where(remessas.c.remessa_no < before)
        if beneficiary:
            query = query.where(remessas.c.beneficiary == beneficiary)
        with self.engine.connect() as conn:
            return [self._record(row) for row in conn.execute(query)]

    def _record(self, row: sa.Row[Any]) -> RemessaRecord:
        m = row._mapping
        return RemessaRecord(
            remessa_no=m["remessa_no"],
            remessa_id=m["remessa_id"],
            account=Account(m["bank_code"], m["agencia"], m["conta"], m["beneficiary"]),
            nsa=m["nsa"],
            upload_id=m["upload_id"],
            titles=m["titles"],
            amount_cents=m["amount_cents"],
            file_name=m["file_name"],
            size_bytes=m["size_bytes"],
            sha256=m["sha256"],
            created_at=_utc(m["created_at"]),
            written_at=_utc(m["written_at"]) if m["written_at"] is not None else None,
        )

    def _stamp(self, moment: dt.datetime) -> dt.datetime:
        """SQLite keeps no zone and the boletos' times are UTC there: compare as such."""
        utc = moment.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if self._sqlite else utc


def _of_account(account: Account) -> list[sa.ColumnElement[bool]]:
    c = remessas.c
    return [
        c.bank_code == account.bank_code,
        c.agencia == account.agencia,
        c.conta == account.conta,
    ]


_ROWID: sa.ColumnClause[Any] = sa.literal_column("boletos.rowid")
_INSTRUCTED = instructions.join(boletos, boletos.c.debt_id == instructions.c.debt_id)
_INSTRUCTION_COLUMNS = [
    instructions.c.kind,
    instructions.c.new_due_date,
    instructions.c.rebate_cents,
]


def _entries(remessa_no: int) -> sa.Select[Any]:
    b = boletos.c
    return sa.select(*_TITLE_COLUMNS).where(b.remessa_no == remessa_no).order_by(b.sequence)


def _literal(conn: Connection, query: sa.Select[Any]) -> str:
    """The query as the driver runs it; its parameters are the store's own integers."""
    return str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _instruction_title(row: sa.Row[Any]) -> RemessaTitle:
    """The boleto's title with the instruction's movement (and new date or rebate)."""
    title = _title(row)
    kind = InstructionKind(row.kind)
    return title._replace(
        movement=kind.movement,
        due_date=row.new_due_date or title.due_date,
        rebate_cents=row.rebate_cents if kind is InstructionKind.REBATE else 0,
    )


def _title(row: Sequence[Any]) -> RemessaTitle:
    """Spelled as title_from_boleto spells a Boleto, from _TITLE_COLUMNS alone (a Row, or the
    driver's tuple, whose dates SQLite gives as text)."""
    (
        sequence, nosso_numero, due, amount_cents, issued, name, government_id, id_kind,
        street, district, cep, city, uf, discount_cents, discount_until,
    ) = row[:_TITLE_WIDTH]  # fmt: skip
    due_date, issue_date = _day(due), _day(issued)
    payer = RemessaPayer(
        name, payer_id_kind(id_kind), government_id, payer_address(street, district, cep, city, uf)
    )
    # By position: keywords cost a tuple's making as much again.
    title = RemessaTitle(nosso_numero, str(sequence), due_date, amount_cents, issue_date, payer)
    if not discount_cents:
        return title
    discount = discount_holding(
        discount_of(discount_cents, discount_until), issue_date, due_date, amount_cents
    )
    if discount is None:
        return title
    return title._replace(discount_cents=discount.cents, discount_until=discount.until)


_TITLE_WIDTH = len(_TITLE_COLUMNS)


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else _parsed_day(value)


# A cut's titles share a few due and issue days.
@functools.lru_cache(maxsize=4_096)
def _parsed_day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
