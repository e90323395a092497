"""The boleto store's operations: issue a batch once, read boletos back."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boleto_service.domain.boleto import (
    Boleto,
    LostRace,
    Payer,
    PayerAddress,
    Refusal,
    charges_of,
    payer_address,
)
from boleto_service.domain.discounts import discount_of
from boleto_service.domain.issuing import IssuedBoleto
from boleto_service.store.engine import NOSSO_NUMERO
from boleto_service.store.retornos import bank_state
from boleto_service.store.tables import (
    ADDRESS_COLUMNS,
    boletos,
    failures,
    outbox,
    remessas,
    sequences,
)
from boletos.platform.database import raw_cursor, writing
from boletos.platform.outbox import Event, OutboxStore, insert_events

_COLUMNS = [
    "debt_id", "upload_id", "line", "sequence", "bank_code", "nosso_numero", "barcode",
    "digitable_line", "amount_cents", "principal_cents", "fine_cents", "interest_cents",
    "due_date", "original_due_date", "issue_date", "payer_name", "payer_government_id",
    "government_id_kind", "email", "issued_at", "pix_payload", "payer_address",
    "payer_district", "payer_zip_code", "payer_city", "payer_state", "beneficiary",
    "discount_cents", "discount_until",
]  # fmt: skip
_IN_LIST = 900
# Sequence numbers a process reserves at a time: one small transaction per ten batches.
SEQUENCE_RANGE = 10_000

_BANK_COLUMNS = [
    "bank_status", "paid_cents", "paid_on", "fee_cents", "bank_reason", "bank_status_at",
]  # fmt: skip
# A boleto as read back: what was issued, where it is at the bank, the remessa that carries it.
_SELECTED = [
    *(boletos.c[name] for name in _COLUMNS + _BANK_COLUMNS),
    remessas.c.remessa_id,
]
_WITH_REMESSA = boletos.outerjoin(remessas, remessas.c.remessa_no == boletos.c.remessa_no)

# build(new_ids, first_sequence, first_number): the sequences number the boletos across the
# service; the numbers, from the beneficiary's own counter, go into their nosso números.
Build = Callable[[list[str], int, int], tuple[list[Boleto], list[Refusal], list[Event]]]


class BoletoStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outbox = OutboxStore(engine, outbox)
        self._sqlite = engine.dialect.name == "sqlite"
        self._sequence_lock = threading.Lock()
        # Per counter: [next, end] of the range this process reserved.
        self._ranges: dict[str, list[int]] = {}

    def issue_batch(
        self,
        debt_ids: Sequence[str],
        build: Build,
        check_first: bool = True,
        counter: str = NOSSO_NUMERO,
        counter_start: int = 1,
    ) -> tuple[int, int]:
        """Skips debts already handled, takes nosso número sequences for the rest, and stores
        what `build(new_ids, first_sequence)` makes of them, with its events, in one
        transaction. Returns (issued, failed). Raises LostRace, storing nothing, if some debt
        was handled already (by another replica, or by an earlier delivery when check_first
        is off); the caller can then try again, checking first.

        Sequences come from a range this process reserves in a transaction of its own, and
        `build` runs outside any transaction, so replicas compute in parallel instead of
        queueing on the database lock. Numbers reserved but not stored (a lost race, a
        stop) are skipped, never reused.

        `counter` names the beneficiary's nosso número counter (first value `counter_start`);
        the default one is the sequence itself, as it was before beneficiaries had their own."""
        done: set[str] = set()
        if check_first:
            with self.engine.connect() as conn:
                done = self._handled(conn, debt_ids)
        new = [d for d in dict.fromkeys(debt_ids) if d not in done]
        if not new:
            return 0, 0
        first = self._take(NOSSO_NUMERO, len(new), 1)
        number = first if counter == NOSSO_NUMERO else self._take(counter, len(new), counter_start)
        records, failed, events = build(new, first, number)
        issued_at = self._now()
        with writing(self.engine) as conn:
            cursor = raw_cursor(conn)
            self._insert(cursor, "boletos", _COLUMNS, [self._row(r, issued_at) for r in records])
            self._insert(
                cursor,
                "boleto_failures",
                ["debt_id", "upload_id", "line", "reason", "failed_at"],
                [(self._key(f.debt_id), f.upload_id, f.line, f.reason, issued_at) for f in failed],
            )
            insert_events(cursor, conn.dialect.name, events)
        return len(records), len(failed)

    def get(self, debt_id: str) -> Boleto | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(*_SELECTED)
                .select_from(_WITH_REMESSA)
                .where(boletos.c.debt_id == self._key(debt_id))
            ).first()
        return self._record(row) if row else None

    def refusal(self, debt_id: str) -> Refusal | None:
        """Why no boleto was issued for the debt, if one was refused."""
        c = failures.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(c.upload_id, c.line, c.reason).where(c.debt_id == self._key(debt_id))
            ).first()
        return Refusal(debt_id, row.upload_id, row.line, row.reason) if row else None

    def knows_upload(self, upload_id: str) -> bool:
        """Whether any debt of the upload reached this service (issued or refused)."""
        with self.engine.connect() as conn:
            for table in (boletos, failures):
                found = conn.execute(
                    sa.select(table.c.debt_id).where(table.c.upload_id == upload_id).limit(1)
                ).first()
                if found is not None:
                    return True
        return False

    def get_many(self, debt_ids: Sequence[str]) -> dict[str, Boleto]:
        """The boletos of those debts that have one, by debt id."""
        found: dict[str, Boleto] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(debt_ids), _IN_LIST):
                keys = [self._key(d) for d in debt_ids[start : start + _IN_LIST]]
                rows = conn.execute(
                    sa.select(*_SELECTED)
                    .select_from(_WITH_REMESSA)
                    .where(boletos.c.debt_id.in_(keys))
                )
                for row in rows:
                    record = self._record(row)
                    found[record.debt_id] = record
        return found

    def list_for_upload(self, upload_id: str, after_line: int, limit: int) -> list[Boleto]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(*_SELECTED)
                .select_from(_WITH_REMESSA)
                .where(boletos.c.upload_id == upload_id, boletos.c.line > after_line)
                .order_by(boletos.c.line)
                .limit(limit)
            ).all()
        return [self._record(r) for r in rows]

    def counts(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            issued = conn.execute(sa.select(sa.func.count()).select_from(boletos)).scalar_one()
            failed = conn.execute(sa.select(sa.func.count()).select_from(failures)).scalar_one()
        return issued, failed

    def _handled(self, conn: Connection, debt_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(debt_ids), _IN_LIST):
            part = debt_ids[start : start + _IN_LIST]
            by_key = {self._key(d): d for d in part}
            for table in (boletos, failures):
                rows = conn.execute(
                    sa.select(table.c.debt_id).where(table.c.debt_id.in_(list(by_key)))
                )
                found.update(by_key[k] for (k,) in rows)
        return found

    def _take(self, counter: str, count: int, start: int) -> int:
        """The first of `count` consecutive values of the counter from the reserved range,
        reserving a new range (at least SEQUENCE_RANGE) when it runs short."""
        with self._sequence_lock:
            reserved = self._ranges.setdefault(counter, [0, 0])
            if reserved[0] + count > reserved[1]:
                size = max(count, SEQUENCE_RANGE)
                with writing(self.engine) as conn:
                    reserved[0] = self._allocate(conn, counter, size, start)
                reserved[1] = reserved[0] + size
            first = reserved[0]
            reserved[0] += count
            return first

    def _allocate(self, conn: Connection, counter: str, count: int, start: int) -> int:
        """The first of `count` fresh values; the row lock serialises replicas."""
        first = conn.execute(
            sequences.update()
            .where(sequences.c.name == counter)
            .values(next_value=sequences.c.next_value + count)
            .returning(sequences.c.next_value)
        ).scalar()
        if first is None:
            # A beneficiary's first boleto: its counter starts where its configuration says.
            # Two replicas racing here: one insert wins, the other's transaction fails and
            # the batch is retried, finding the row.
            conn.execute(sequences.insert().values(name=counter, next_value=start + count))
            return start
        return first - count

    def _insert(
        self, cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        marks = ", ".join(["?" if self._sqlite else "%s"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        cursor.executemany(sql, rows)
        if cursor.rowcount != len(rows):
            raise LostRace(f"{len(rows) - cursor.rowcount} of {len(rows)} already in {table}")

    def _row(self, b: Boleto, issued_at: object) -> tuple[Any, ...]:
        n, p, charges, discount = b.numbers, b.payer, b.numbers.charges, b.discount
        dates = [b.due_date, charges.original_due_date, b.issue_date]
        until: object = discount.until if discount else None
        if self._sqlite:
            # Dates as ISO text, which is how SQLAlchemy's Date reads them back on SQLite.
            dates = [d.isoformat() for d in dates]  # type: ignore[misc]
            until = discount.until.isoformat() if discount else None
        return (
            self._key(b.debt_id), b.upload_id, b.line, b.sequence, n.bank_code, n.nosso_numero,
            n.barcode, n.linha_digitavel_formatted, b.amount_cents, charges.principal_cents,
            charges.fine_cents, charges.interest_cents, *dates, p.name, p.government_id,
            p.government_id_kind, p.email, issued_at, n.pix_payload, *_address_values(p.address),
            b.beneficiary, discount.cents if discount else 0, until,
        )  # fmt: skip

    def _record(self, row: sa.Row[Any]) -> Boleto:
        m = row._mapping
        key = m["debt_id"]
        issued_at = m["issued_at"]
        if issued_at is not None and issued_at.tzinfo is None:
            issued_at = issued_at.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; all is UTC
        return Boleto(
            debt_id=str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key),
            upload_id=m["upload_id"],
            line=m["line"],
            sequence=m["sequence"],
            issue_date=m["issue_date"],
            payer=Payer(
                m["payer_name"],
                m["payer_government_id"],
                m["government_id_kind"],
                m["email"],
                payer_address(*(m[c] for c in ADDRESS_COLUMNS)),
            ),
            numbers=IssuedBoleto(
                bank_code=m["bank_code"],
                nosso_numero=m["nosso_numero"],
                barcode=m["barcode"],
                linha_digitavel_formatted=m["digitable_line"],
                charges=charges_of(
                    m["original_due_date"],
                    m["due_date"],
                    m["principal_cents"],
                    m["fine_cents"],
                    m["interest_cents"],
                ),
                pix_payload=m["pix_payload"],
            ),
            issued_at=issued_at,
            bank=bank_state(m),
            remessa_id=m["remessa_id"] or "",
            beneficiary=m["beneficiary"],
            discount=discount_of(m["discount_cents"], m["discount_until"]),
        )

    def _key(self, debt_id: str) -> bytes | str:
        # The services' ids are canonical UUIDs (boletos.platform.ids): their hex digits are
        # the 16 bytes, read for a seventh of what uuid.UUID costs on a million-boleto file.
        return bytes.fromhex(debt_id.replace("-", "")) if self._sqlite else debt_id

    def _now(self) -> object:
        now = dt.datetime.now(dt.UTC)
        return now.replace(tzinfo=None).isoformat(sep=" ") if self._sqlite else now


def _address_values(address: PayerAddress | None) -> tuple[str, str, str, str, str]:
    if address is None:
        return "", "", "", "", ""
    return address.street, address.district, address.cep, address.city, address.uf
