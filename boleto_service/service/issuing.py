"""Turns imported debts into boleto records: pure, so it is tested without I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from boleto_service.domain.errors import BoletoDomainError
from boleto_service.domain.issuing import BoletoIssuer
from boletos.v1 import events_pb2

# Boletos are dated in Brazil's official time (UTC-3 all year since daylight saving ended in
# 2019), whatever the server's clock zone.
BRASILIA = dt.timezone(dt.timedelta(hours=-3))


def today_in_brazil(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(BRASILIA).date()


@dataclass(frozen=True, slots=True)
class BoletoRecord:
    debt_id: str
    upload_id: str
    line: int
    sequence: int
    bank_code: str
    nosso_numero: str
    barcode: str
    digitable_line: str
    amount_cents: int
    principal_cents: int
    fine_cents: int
    interest_cents: int
    due_date: dt.date
    original_due_date: dt.date
    issue_date: dt.date
    payer_name: str
    payer_government_id: str
    government_id_kind: int
    email: str


@dataclass(frozen=True, slots=True)
class Failure:
    debt_id: str
    upload_id: str
    line: int
    reason: str


def issue(
    issuer: BoletoIssuer,
    upload_id: str,
    debt: events_pb2.ImportedDebt,
    sequence: int,
    today: dt.date,
) -> BoletoRecord | Failure:
    try:
        due = dt.date.fromisoformat(debt.due_date)
        numbers = issuer.issue(sequence, debt.amount_cents, due, today)
    except (BoletoDomainError, ValueError) as exc:
        return Failure(debt.debt_id, upload_id, debt.line, str(exc))
    charges = numbers.charges
    return BoletoRecord(
        debt_id=debt.debt_id,
        upload_id=upload_id,
        line=debt.line,
        sequence=sequence,
        bank_code=numbers.bank_code,
        nosso_numero=numbers.nosso_numero,
        barcode=numbers.barcode,
        digitable_line=numbers.linha_digitavel_formatted,
        amount_cents=numbers.amount_cents,
        principal_cents=charges.principal_cents,
        fine_cents=charges.fine_cents,
        interest_cents=charges.interest_cents,
        due_date=numbers.due_date,
        original_due_date=due,
        issue_date=today,
        payer_name=debt.name,
        payer_government_id=debt.government_id,
        government_id_kind=debt.government_id_kind,
        email=debt.email,
    )


def issued_event(records: list[BoletoRecord]) -> bytes:
    return events_pb2.BoletosIssued(
        boletos=[
            events_pb2.IssuedBoleto(
                debt_id=r.debt_id,
                upload_id=r.upload_id,
                payer_name=r.payer_name,
                email=r.email,
                amount_cents=r.amount_cents,
                due_date=r.due_date.isoformat(),
                digitable_line=r.digitable_line,
                barcode=r.barcode,
                nosso_numero=r.nosso_numero,
            )
            for r in records
        ]
    ).SerializeToString()


def failed_event(failures: list[Failure]) -> bytes:
    return events_pb2.BoletosFailed(
        failures=[
            events_pb2.FailedBoleto(debt_id=f.debt_id, upload_id=f.upload_id, reason=f.reason)
            for f in failures
        ]
    ).SerializeToString()
