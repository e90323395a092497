"""Issuing a boleto's numbers: overdue policy, payable window, campo livre, barcode and linha."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from .barcode import build_barcode
from .beneficiary import BeneficiaryConfig
from .charges import ChargeBreakdown, OverduePolicy, apply_overdue_policy
from .discounts import DiscountPolicy
from .due_factor import due_factor, ensure_payable
from .errors import InvalidAmount
from .linha_digitavel import formatted_linha_for_built_barcode
from .money import to_cents
from .pix import PixMerchant, pix_payload


@dataclass(frozen=True, slots=True)
class IssuedBoleto:
    """The numbers of one boleto: what the barcode encodes and the payer types or scans."""

    bank_code: str
    nosso_numero: str
    barcode: str
    # Grouped for printing: '00190.00009 01234.567004 ...'
    linha_digitavel_formatted: str
    charges: ChargeBreakdown
    # The Pix BR Code printed beside the barcode ("boleto híbrido"); empty without a Pix key.
    pix_payload: str = ""

    @property
    def due_date(self) -> date:
        return self.charges.due_date

    @property
    def amount_cents(self) -> int:
        return self.charges.total_cents

    @property
    def factor(self) -> int:
        return int(self.barcode[5:9])

    @property
    def linha_digitavel(self) -> str:
        """The 47 digits, ungrouped."""
        return "".join(c for c in self.linha_digitavel_formatted if c.isdigit())


def issue_boleto(
    config: BeneficiaryConfig,
    sequence: int,
    amount: int | Decimal,
    due_date: date,
    today: date,
    policy: OverduePolicy | None = None,
) -> IssuedBoleto:
    """Numbers for the boleto `sequence` of a debt of `amount` (int centavos or Decimal reais).

    A debt already overdue on `today` is re-dated and charged per `policy`; the resulting due
    date must lie in the window banks accept, or DueDateOutsidePayableWindow is raised.
    """
    principal = to_cents(amount)
    if principal == 0:
        # A zero amount in the barcode means "amount typed in at payment", not a debt.
        raise InvalidAmount("a boleto for a debt must have an amount above zero")
    charges = apply_overdue_policy(due_date, principal, today, policy)
    ensure_payable(charges.due_date, today)
    factor = due_factor(charges.due_date)
    bank = config.bank
    barcode = build_barcode(
        bank.code, factor, charges.total_cents, bank.campo_livre(config, sequence)
    )
    return IssuedBoleto(
        bank_code=bank.code,
        nosso_numero=bank.nosso_numero(config, sequence),
        barcode=barcode,
        linha_digitavel_formatted=formatted_linha_for_built_barcode(barcode),
        charges=charges,
    )


@dataclass(frozen=True)
class BoletoIssuer:
    """One beneficiary and policy, reused across many boletos."""

    config: BeneficiaryConfig
    policy: OverduePolicy = OverduePolicy()
    pix: PixMerchant | None = None
    # The first value of the beneficiary's nosso número counter.
    first_number: int = 1
    # The beneficiary's discount for debts whose file row gives none.
    discount: DiscountPolicy | None = None

    def issue(
        self, sequence: int, amount: int | Decimal, due_date: date, today: date
    ) -> IssuedBoleto:
        numbers = issue_boleto(self.config, sequence, amount, due_date, today, self.policy)
        if self.pix is None:
            return numbers
        # The amount with the overdue charges, as the barcode's.
        payload = pix_payload(self.pix, numbers.amount_cents, numbers.nosso_numero)
        return replace(numbers, pix_payload=payload)

    def pix_for(self, numbers: IssuedBoleto, discount_cents: int) -> IssuedBoleto:
        """The numbers with a Pix code for the amount less an early-payment discount that
        holds: a Pix code has no date rule, so it carries the amount due on the day it is
        made (the barcode keeps the full amount: the bank applies the discount by date)."""
        if self.pix is None or not discount_cents:
            return numbers
        payload = pix_payload(self.pix, numbers.amount_cents - discount_cents, numbers.nosso_numero)
        return replace(numbers, pix_payload=payload)
