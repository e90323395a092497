"""The two check-digit schemes of FEBRABAN boletos: modulo 10 and the barcode's modulo 11.

Both run millions of times per file, so the digits go through bytes.translate tables and
C-level sums instead of a Python loop, or a table lookup, per digit.
"""

from __future__ import annotations

import operator
from itertools import cycle, islice

from .digits import ensure_digits

# Each digit's character to its value, and to what it contributes at a doubled position:
# the sum of the digits of 2 * d.
_PLAIN = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED = bytes.maketrans(b"0123456789", bytes((2 * d) // 10 + (2 * d) % 10 for d in range(10)))
# Weights 2..9 cycling from the right, for as long as any FEBRABAN field gets.
_MOD11_WEIGHTS = tuple(islice(cycle(range(2, 10)), 64))


def mod10(digits: str) -> int:
    """Modulo 10 DV: weights 2,1,2,1... from the right, summing the digits of each product."""
    ensure_digits(digits, "modulo 10 input")
    reversed_digits = digits.encode("ascii")[::-1]
    total = sum(reversed_digits[0::2].translate(_DOUBLED)) + sum(
        reversed_digits[1::2].translate(_PLAIN)
    )
    return (10 - total % 10) % 10


def mod11_remainder(digits: str) -> int:
    """Sum of digits times weights 2..9 cycling from the right, modulo 11."""
    ensure_digits(digits, "modulo 11 input")
    if len(digits) > len(_MOD11_WEIGHTS):
        raise ValueError(f"modulo 11 input longer than {len(_MOD11_WEIGHTS)} digits")
    values = digits.encode("ascii")[::-1].translate(_PLAIN)
    total: int = sum(map(operator.mul, values, _MOD11_WEIGHTS))
    return total % 11


def mod11_barcode(digits: str) -> int:
    """The barcode's general DV: 11 - remainder, with 0, 10 and 11 printed as 1."""
    dv = 11 - mod11_remainder(digits)
    # Remainder 0 gives 11 and remainder 1 gives 10: neither fits one digit, and FEBRABAN keeps
    # 0 out of this position, so both print as 1. (11 - remainder itself is never 0.)
    if dv in (0, 10, 11):
        return 1
    return dv
