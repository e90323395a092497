"""Amounts as people and spreadsheets read them, always from integer centavos."""

from __future__ import annotations

from boletos.report_columns import amount_text

__all__ = ["amount_text", "reais_digits", "reais_text"]


def reais_text(cents: int) -> str:
    """'R$ 7.811,00' for 781100, the way the amount is printed on a boleto."""
    sign = "-" if cents < 0 else ""
    return f"{sign}R$ {reais_digits(abs(cents))}"


def reais_digits(cents: int) -> str:
    """'7.811,00' for 781100: for a column whose heading already says R$."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{fraction:02d}"
