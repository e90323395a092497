"""Classifies a governmentId as CPF or CNPJ when its check digits say so.

Real files also carry short client-specific ids (the public sample uses 4 digits), so an id
that is neither is still valid: classification informs, it never rejects.
"""

from __future__ import annotations

from enum import IntEnum


class GovernmentIdKind(IntEnum):
    """Mirrors boletos.v1.GovernmentIdKind."""

    OTHER = 1
    CPF = 2
    CNPJ = 3


def _check_digit(digits: str, weights: range | list[int]) -> int:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def is_cpf(value: str) -> bool:
    if len(value) != 11 or not value.isdigit() or value == value[0] * 11:
        return False
    first = _check_digit(value[:9], range(10, 1, -1))
    second = _check_digit(value[:10], range(11, 1, -1))
    return value[9:] == f"{first}{second}"


_CNPJ_FIRST = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
_CNPJ_SECOND = [6, *_CNPJ_FIRST]


def is_cnpj(value: str) -> bool:
    if len(value) != 14 or not value.isdigit() or value == value[0] * 14:
        return False
    first = _check_digit(value[:12], _CNPJ_FIRST)
    second = _check_digit(value[:13], _CNPJ_SECOND)
    return value[12:] == f"{first}{second}"


def classify(value: str) -> GovernmentIdKind:
    if len(value) == 11 and is_cpf(value):
        return GovernmentIdKind.CPF
    if len(value) == 14 and is_cnpj(value):
        return GovernmentIdKind.CNPJ
    return GovernmentIdKind.OTHER
