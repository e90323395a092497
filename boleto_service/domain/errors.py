"""Exceptions of the boleto domain; each carries a reason a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple


class BoletoDomainError(ValueError):
    """Base of every refusal raised by the boleto domain."""


class MalformedCode(BoletoDomainError):
    """A barcode, linha digitável or numeric field has the wrong length or characters."""


class InvalidAmount(BoletoDomainError):
    """An amount cannot be written into a barcode (negative, too large, or not exact cents)."""


class InvalidDueDate(BoletoDomainError):
    """A date or factor that the FEBRABAN due-date factor cannot represent."""


class DueDateOutsidePayableWindow(InvalidDueDate):
    """The due date falls outside the window in which banks accept the boleto."""

    def __init__(self, due_date: date, today: date, reason: str) -> None:
        super().__init__(reason)
        self.due_date = due_date
        self.today = today
        self.reason = reason


@dataclass(frozen=True)
class CheckDigitMismatch:
    """One check digit that does not match the digits it protects."""

    where: str
    expected: int
    found: int

    def describe(self) -> str:
        return f"{self.where}: expected check digit {self.expected}, found {self.found}"


class InvalidCheckDigit(BoletoDomainError):
    """One or more check digits are wrong; `mismatches` says which."""

    def __init__(self, what: str, mismatches: tuple[CheckDigitMismatch, ...]) -> None:
        details = "; ".join(m.describe() for m in mismatches)
        super().__init__(f"invalid {what}: {details}")
        self.mismatches = mismatches


class Problem(NamedTuple):
    """One reason a configuration is unusable, and the field it concerns."""

    field: str
    text: str


class InvalidBeneficiaryConfig(BoletoDomainError):
    """A beneficiary/bank configuration is unusable; `problems` lists every reason."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__(
            "invalid beneficiary configuration: " + "; ".join(p.text for p in problems)
        )
        self.problems = problems


class UnknownBank(BoletoDomainError):
    """No bank layout is registered for the given bank code."""


class NossoNumeroOutOfRange(BoletoDomainError):
    """A sequence value does not fit the bank's nosso número field."""


class InvalidOverduePolicy(BoletoDomainError):
    """An overdue policy with negative, non-decimal or otherwise unusable terms."""
