"""The two check-digit schemes of FEBRABAN boletos: modulo 10 and the barcode's modulo 11."""

from __future__ import annotations

from .digits import ensure_digits


def mod10(digits: str) -> int:
    """Modulo 10 DV: weights 2,1,2,1... from the right, summing the digits of each product."""
    ensure_digits(digits, "modulo 10 input")
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11_remainder(digits: str) -> int:
    """Sum of digits times weights 2..9 cycling from the right, modulo 11."""
    ensure_digits(digits, "modulo 11 input")
    total = sum(int(char) * (2 + position % 8) for position, char in enumerate(reversed(digits)))
    return total % 11


def mod11_barcode(digits: str) -> int:
    """The barcode's general DV: 11 - remainder, with 0, 10 and 11 printed as 1."""
    dv = 11 - mod11_remainder(digits)
    # Remainder 0 gives 11 and remainder 1 gives 10: neither fits one digit, and FEBRABAN keeps
    # 0 out of this position, so both print as 1. (11 - remainder itself is never 0.)
    if dv in (0, 10, 11):
        return 1
    return dv
