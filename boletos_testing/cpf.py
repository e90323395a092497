"""Valid CPFs on demand, one per number, for payers a bank would register."""

from __future__ import annotations


def valid_cpf(number: int) -> str:
    """The CPF whose first nine digits are `number` (mod 10^9), check digits included."""
    digits = [int(c) for c in f"{number % 1_000_000_000:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))
