"""A boleto as its payer sees it on the page their e-mail links to: what to pay today, where
it stands, and nothing personal beyond a masked document. Pure.

What to pay today follows the overdue policy's own rules (charges.py): by the due date, the
amount printed (less an early-payment discount still holding); past it, the principal plus
the fine once and simple interest pro rata per day from the debt's original due date to today,
each rounded once. The bank charges the same from the boleto's own instructions."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from .boleto import BankStatus, Boleto
from .charges import OverduePolicy


class PageStatus(enum.IntEnum):
    # The values of boletos.v1.PaymentPageStatus.
    OPEN = 1
    OVERDUE = 2
    PAID = 3
    CLOSED = 4


@dataclass(frozen=True)
class PaymentPage:
    beneficiary_name: str
    beneficiary_cnpj: str
    payer_document_masked: str
    status: PageStatus
    amount_cents: int
    amount_due_cents: int
    fine_cents: int
    interest_cents: int
    discount_cents: int
    due_date: dt.date
    today: dt.date
    digitable_line: str
    pix_payload: str
    paid_on: dt.date | None
    paid_cents: int


def masked_document(government_id: str) -> str:
    """A CPF shows its middle six digits (as Brazilian receipts print it), a CNPJ its first
    eight (the company's root, public anyway); anything else shows nothing."""
    digits = "".join(c for c in government_id if c.isdigit())
    if len(digits) == 11:
        return f"***.{digits[3:6]}.{digits[6:9]}-**"
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/****-**"
    return "***"


def page_for(
    boleto: Boleto,
    beneficiary_name: str,
    beneficiary_cnpj: str,
    policy: OverduePolicy,
    today: dt.date,
) -> PaymentPage:
    bank = boleto.bank
    fine = interest = discount = 0
    due = boleto.amount_cents
    if bank.status == BankStatus.PAID:
        status = PageStatus.PAID
    elif bank.status in (BankStatus.WRITTEN_OFF, BankStatus.REJECTED):
        status = PageStatus.CLOSED
    elif today > boleto.due_date:
        status = PageStatus.OVERDUE
        charges = boleto.charges
        days = (today - charges.original_due_date).days
        fine, interest = policy.fine_and_interest(charges.principal_cents, days)
        due = charges.principal_cents + fine + interest
    else:
        status = PageStatus.OPEN
        offered = boleto.offered_discount
        if offered is not None and today <= offered.until:
            discount = offered.cents
            due = boleto.amount_cents - discount
    return PaymentPage(
        beneficiary_name=beneficiary_name,
        beneficiary_cnpj=beneficiary_cnpj,
        payer_document_masked=masked_document(boleto.payer.government_id),
        status=status,
        amount_cents=boleto.amount_cents,
        amount_due_cents=due,
        fine_cents=fine,
        interest_cents=interest,
        discount_cents=discount,
        due_date=boleto.due_date,
        today=today,
        digitable_line=boleto.numbers.linha_digitavel_formatted,
        # Its amount is the printed one: past due or settled, it would charge the wrong sum.
        pix_payload=boleto.numbers.pix_payload if status == PageStatus.OPEN else "",
        paid_on=bank.paid_on,
        paid_cents=bank.paid_cents or 0,
    )
