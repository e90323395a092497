from __future__ import annotations

from decimal import Decimal

import pytest

from boleto_service.domain.errors import InvalidAmount
from boleto_service.domain.money import MAX_AMOUNT_CENTS, cents_to_reais, format_reais, to_cents


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (1000, 1000),
        (Decimal("1000000.00"), 100_000_000),
        (Decimal("10"), 1000),
        (Decimal("0.01"), 1),
        (Decimal("99999999.99"), MAX_AMOUNT_CENTS),
        (MAX_AMOUNT_CENTS, MAX_AMOUNT_CENTS),
        (0, 0),
    ],
)
def test_to_cents(amount: int | Decimal, cents: int) -> None:
    assert to_cents(amount) == cents


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (10.5, "got float"),
        (True, "got True"),
        ("10.00", "got str"),
        (Decimal("0.001"), "fractions of a centavo"),
        (Decimal("NaN"), "finite"),
        (-1, "negative"),
        (Decimal("-0.01"), "negative"),
        (MAX_AMOUNT_CENTS + 1, "exceeds the barcode maximum of 99.999.999,99"),
        (Decimal("100000000.00"), "exceeds"),
    ],
)
def test_to_cents_refusals(amount: object, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        to_cents(amount)  # type: ignore[arg-type]


def test_display_helpers() -> None:
    assert format_reais(123456789) == "1.234.567,89"
    assert format_reais(5) == "0,05"
    assert cents_to_reais(675787) == Decimal("6757.87")
