"""Issuing a boleto's numbers: overdue policy, payable window, campo livre, barcode and linha."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .barcode import build_barcode
from .beneficiary import BeneficiaryConfig
from .charges import ChargeBreakdown, OverduePolicy, apply_overdue_policy
from .due_factor import due_factor, ensure_payable
from .errors import InvalidAmount
from .linha_digitavel import format_linha, linha_for_built_barcode
from .money import to_cents


@dataclass(frozen=True)
class IssuedBoleto:
    """Everything printed or encoded on one boleto that the domain computes."""

    bank_code: str
    nosso_numero: str
    due_date: date
    factor: int
    amount_cents: int
    barcode: str
    linha_digitavel: str
    linha_digitavel_formatted: str
    charges: ChargeBreakdown


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
    linha = linha_for_built_barcode(barcode)
    return IssuedBoleto(
        bank_code=bank.code,
        nosso_numero=bank.nosso_numero(config, sequence),
        due_date=charges.due_date,
        factor=factor,
        amount_cents=charges.total_cents,
        barcode=barcode,
        linha_digitavel=linha,
        linha_digitavel_formatted=format_linha(linha),
        charges=charges,
    )


@dataclass(frozen=True)
class BoletoIssuer:
    """One beneficiary and policy, reused across many boletos."""

    config: BeneficiaryConfig
    policy: OverduePolicy = OverduePolicy()

    def issue(
        self, sequence: int, amount: int | Decimal, due_date: date, today: date
    ) -> IssuedBoleto:
        return issue_boleto(self.config, sequence, amount, due_date, today, self.policy)
