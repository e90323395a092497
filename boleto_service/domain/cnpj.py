"""CNPJ validation, numeric and the alphanumeric form the Receita Federal issues from 2026."""

from __future__ import annotations

import re

from .digits import strip_separators

# Twelve base characters (digits, or from July 2026 also upper-case letters) and two numeric DVs.
_SHAPE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def _check_digit(base: str) -> int:
    # Receita Federal (Nota Técnica COCAD/SUARA/RFB 49/2024): each character counts as its ASCII
    # code minus 48, so digits keep their value and the rule for numeric CNPJs is unchanged.
    weights = _WEIGHTS[-len(base) :]
    total = sum((ord(char) - 48) * weight for char, weight in zip(base, weights, strict=True))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def normalize_cnpj(text: str) -> str:
    return strip_separators(text).upper()


def cnpj_problem(cnpj: str) -> str | None:
    """Why `cnpj` (14 characters, no punctuation) is not a valid CNPJ, or None."""
    if not isinstance(cnpj, str) or not _SHAPE.fullmatch(cnpj):
        return (
            f"CNPJ must be 12 digits or upper-case letters followed by 2 check digits, got {cnpj!r}"
        )
    if len(set(cnpj)) == 1:
        return f"CNPJ {cnpj} is a placeholder (one repeated character)"
    first = _check_digit(cnpj[:12])
    second = _check_digit(cnpj[:12] + str(first))
    if cnpj[12:] != f"{first}{second}":
        return f"CNPJ {cnpj} has check digits {cnpj[12:]}, expected {first}{second}"
    return None


def format_cnpj(cnpj: str) -> str:
    return f"{cnpj[0:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:14]}"
