from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date, timedelta
from decimal import Decimal

import pytest

from boleto_service.domain import (
    BoletoIssuer,
    DueDateOutsidePayableWindow,
    InvalidAmount,
    OverduePolicy,
    date_for_factor,
    due_factor,
    linha_to_barcode,
    parse_barcode,
)
from boleto_service.domain.issuing import issue_boleto
from tests.support.beneficiaries import BB

CONFIG = BB
TODAY = date(2025, 11, 26)


def test_overdue_debt_is_redated_and_charged() -> None:
    policy = OverduePolicy(fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))
    issued = BoletoIssuer(CONFIG, policy).issue(42, Decimal("100.00"), date(2024, 10, 4), TODAY)
    assert issued.due_date == date(2025, 12, 1)
    assert issued.charges.original_due_date == date(2024, 10, 4)
    assert issued.charges.days_overdue == 423
    assert issued.charges.fine_cents == 200
    assert issued.charges.interest_cents == 1410  # 10000 * 1% * 423 / 30
    assert issued.amount_cents == 11_610
    fields = parse_barcode(issued.barcode)
    assert fields.amount_cents == issued.amount_cents
    assert fields.factor == issued.factor == due_factor(date(2025, 12, 1)) == 1282
    assert date_for_factor(fields.factor, TODAY) == issued.due_date
    assert issued.nosso_numero == "12345670000000042"
    assert linha_to_barcode(issued.linha_digitavel_formatted) == issued.barcode


def test_debt_due_later_keeps_its_date_after_the_reset() -> None:
    issued = issue_boleto(CONFIG, 7, 1000, date(2026, 1, 15), TODAY)
    assert issued.due_date == date(2026, 1, 15)
    assert issued.factor == 1327
    assert issued.amount_cents == 1000
    # Checked by hand: weights 2..9 from the right give 386, remainder 1, so 11 - 1 = 10 -> 1.
    assert issued.barcode == "00191132700000010000000001234567000000000717"
    assert issued.linha_digitavel_formatted == (
        "00190.00009 01234.567004 00000.007179 1 13270000001000"
    )


def test_due_date_beyond_the_window_is_refused() -> None:
    with pytest.raises(DueDateOutsidePayableWindow) as refused:
        issue_boleto(CONFIG, 1, 1000, TODAY + timedelta(days=5501), TODAY)
    assert "5500" in refused.value.reason
    issue_boleto(CONFIG, 1, 1000, TODAY + timedelta(days=5500), TODAY)


def test_zero_and_float_amounts_are_refused() -> None:
    with pytest.raises(InvalidAmount, match="above zero"):
        issue_boleto(CONFIG, 1, 0, TODAY, TODAY)
    with pytest.raises(InvalidAmount, match="float"):
        issue_boleto(CONFIG, 1, 10.0, TODAY, TODAY)  # type: ignore[arg-type]


def test_charges_pushing_past_the_barcode_maximum_are_refused() -> None:
    policy = OverduePolicy(fine_percent=Decimal(2))
    with pytest.raises(InvalidAmount, match="exceeds"):
        issue_boleto(CONFIG, 1, 9_999_999_999, date(2025, 1, 1), TODAY, policy)


def test_issued_boleto_is_immutable() -> None:
    issued = issue_boleto(CONFIG, 1, 1000, TODAY, TODAY)
    with pytest.raises(FrozenInstanceError):
        issued.barcode = "0"  # type: ignore[misc]
