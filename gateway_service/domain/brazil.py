"""Money and dates as a Brazilian reads them. Pure, from integer centavos and ISO dates."""

from __future__ import annotations

import datetime as dt


def reais(cents: int) -> str:
    """'R$ 1.234,56' for 123456."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{fraction:02d}"


def day(iso: str) -> str:
    """'05/12/2026' for '2026-12-05'; empty for empty."""
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def cnpj(digits: str) -> str:
    """'11.222.333/0001-81' for its 14 digits; anything else as given."""
    if len(digits) != 14 or not digits.isdigit():
        return digits
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
