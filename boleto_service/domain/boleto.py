"""A boleto issued for one debt, and a debt no boleto could be issued for: what the service
stores, announces and prints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from .charges import ChargeBreakdown
from .discounts import Discount, discount_holding
from .issuing import IssuedBoleto


class PayerAddress(NamedTuple):
    """As the file gave it (accents kept); a CNAB file folds it to its own widths. A tuple:
    a remessa cut makes one for every boleto it reads."""

    street: str  # logradouro, número and complemento
    district: str  # bairro; may be empty
    cep: str  # 8 digits
    city: str
    uf: str

    @property
    def cep_formatted(self) -> str:
        return f"{self.cep[:5]}-{self.cep[5:]}"


@dataclass(frozen=True, slots=True)
class Payer:
    name: str
    government_id: str
    # boletos.v1.GovernmentIdKind: what government_id is (CPF, CNPJ, other)
    government_id_kind: int
    email: str
    # None when the upload's file had no address columns: such a boleto is not registered.
    address: PayerAddress | None = None


def payer_address(street: str, district: str, cep: str, city: str, uf: str) -> PayerAddress | None:
    """The address of stored or announced fields; None when there is none."""
    return PayerAddress(street, district, cep, city, uf) if street else None


class BankStatus(IntEnum):
    """Where a boleto is at the bank; the numbers are boletos.v1.BankStatus's."""

    ISSUED = 1
    REGISTERED = 2
    REJECTED = 3
    PAID = 4
    WRITTEN_OFF = 5


@dataclass(frozen=True, slots=True)
class BankState:
    """What the bank's retornos said about a boleto so far."""

    status: BankStatus = BankStatus.ISSUED
    paid_cents: int | None = None
    paid_on: dt.date | None = None
    # The bank's fee for the payment.
    fee_cents: int | None = None
    # The bank's occurrence code and reasons when it refused or wrote the boleto off.
    reason: str = ""
    # When a retorno last changed the status; None while issued.
    changed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Boleto:
    debt_id: str
    upload_id: str
    # The debt's line in its upload's file.
    line: int
    # Numbers the nosso número; unique across the service, never reused.
    sequence: int
    issue_date: dt.date
    payer: Payer
    numbers: IssuedBoleto
    # When it was stored; None until then.
    issued_at: dt.datetime | None = None
    bank: BankState = BankState()
    # The remessa that asked the bank to register it; empty until one did.
    remessa_id: str = ""
    # Key of the beneficiary it is issued for (domain.beneficiaries).
    beneficiary: str = "default"
    # An early-payment discount from the file, granted when paid by its date.
    discount: Discount | None = None

    @property
    def offered_discount(self) -> Discount | None:
        """The early-payment discount printed, registered and offered; None once past."""
        return discount_holding(self.discount, self.issue_date, self.due_date, self.amount_cents)

    @property
    def paid_amount_differs(self) -> bool:
        """Paid, but not the amount charged: someone should look."""
        paid = self.bank.paid_cents
        paid_at_all = self.bank.status == BankStatus.PAID and paid is not None
        return paid_at_all and paid != self.amount_cents

    @property
    def charges(self) -> ChargeBreakdown:
        return self.numbers.charges

    @property
    def due_date(self) -> dt.date:
        return self.numbers.due_date

    @property
    def amount_cents(self) -> int:
        return self.numbers.amount_cents


@dataclass(frozen=True, slots=True)
class Refusal:
    """A debt no boleto can be issued for, and why (a due date banks would not accept, say)."""

    debt_id: str
    upload_id: str
    line: int
    reason: str


class LostRace(Exception):
    """Another replica issued some of these debts while this one was working."""


def charges_of(
    original_due_date: dt.date,
    due_date: dt.date,
    principal_cents: int,
    fine_cents: int,
    interest_cents: int,
) -> ChargeBreakdown:
    """The breakdown of a stored boleto: its days overdue follow from its two dates."""
    days = (due_date - original_due_date).days if due_date != original_due_date else 0
    return ChargeBreakdown(
        original_due_date, due_date, days, principal_cents, fine_cents, interest_cents
    )
