"""Brazilian notation for the values a payer reads: money as "R$ 1.234,56", dates dd/mm/yyyy."""

from __future__ import annotations

from datetime import date


def format_brl(cents: int) -> str:
    """Integer centavos in reais: 123456 -> 'R$ 1.234,56'. Never goes through a float."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amount must be int centavos, got {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{fraction:02d}"


def format_date_br(day: date) -> str:
    # strftime('%Y') does not pad years below 1000 on every platform; this always does.
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
