from __future__ import annotations

from datetime import date

import pytest

from mailer_service.domain.formatting import format_brl, format_date_br


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "R$ 0,00"),
        (1, "R$ 0,01"),
        (10, "R$ 0,10"),
        (99, "R$ 0,99"),
        (100, "R$ 1,00"),
        (99_999, "R$ 999,99"),
        (100_000, "R$ 1.000,00"),
        (123_456, "R$ 1.234,56"),
        (100_000_000, "R$ 1.000.000,00"),
        (123_456_789, "R$ 1.234.567,89"),
        (9_999_999_999, "R$ 99.999.999,99"),
        (-150, "-R$ 1,50"),
    ],
)
def test_format_brl(cents: int, text: str) -> None:
    assert format_brl(cents) == text


@pytest.mark.parametrize("amount", [1.5, True, "100", None])
def test_format_brl_takes_only_int_centavos(amount: object) -> None:
    with pytest.raises(TypeError):
        format_brl(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 12, 1), "01/12/2026"),
        (date(2025, 2, 22), "22/02/2025"),
        (date(2024, 10, 4), "04/10/2024"),
        (date(999, 1, 9), "09/01/0999"),
    ],
)
def test_format_date_br(day: date, text: str) -> None:
    assert format_date_br(day) == text
