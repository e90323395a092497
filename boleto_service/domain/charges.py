"""Overdue policy: a debt already past due gets a new due date plus fine and interest.

Rules, all on the principal (no interest on the fine, no compounding):
- A debt whose due date is on or after the issue date keeps its date and amount.
- Otherwise the boleto falls due `days_after_issue` days after the issue date.
- Fine: `fine_percent` of the principal, charged once.
- Interest: `monthly_interest_percent` per month, pro rata per calendar day overdue, counted
  from the original due date to the new due date (the day the debtor is expected to pay). A month
  counts as 30 days, the commercial convention for "juros de mora ao mês", so the daily rate is
  the monthly rate / 30 whatever the calendar month.
- Fine and interest are each rounded once to the centavo with ROUND_HALF_UP; the total is their
  exact sum with the principal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .errors import InvalidOverduePolicy
from .money import ensure_barcode_amount

DAYS_PER_MONTH = 30


def _percent(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise InvalidOverduePolicy(f"{what} must be an int or Decimal percentage, got {value!r}")
    percent = Decimal(value)
    if not percent.is_finite() or percent < 0:
        raise InvalidOverduePolicy(f"{what} must be a non-negative percentage, got {value}")
    return percent


@dataclass(frozen=True)
class OverduePolicy:
    days_after_issue: int = 5
    fine_percent: Decimal = field(default=Decimal(0))
    monthly_interest_percent: Decimal = field(default=Decimal(0))
    # (numerator, denominator) of the fine and of a day's interest as shares of the principal.
    _fine: tuple[int, int] = field(init=False, repr=False, compare=False)
    _interest_per_day: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        days = self.days_after_issue
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidOverduePolicy(f"days_after_issue must be an int >= 0, got {days!r}")
        # Normalise ints to Decimal so later arithmetic never meets a float.
        object.__setattr__(self, "fine_percent", _percent(self.fine_percent, "fine_percent"))
        object.__setattr__(
            self,
            "monthly_interest_percent",
            _percent(self.monthly_interest_percent, "monthly_interest_percent"),
        )
        # The rates as exact fractions of the principal, kept for the million boletos of a
        # file: integer arithmetic on them gives what Decimal's would, for less (a boleto's
        # charges 2.1-2.3 us with Decimal, 1.3-1.4 us so).
        fine, per = self.fine_percent.as_integer_ratio()
        interest, interest_per = self.monthly_interest_percent.as_integer_ratio()
        object.__setattr__(self, "_fine", (fine, per * 100))
        object.__setattr__(
            self, "_interest_per_day", (interest, interest_per * 100 * DAYS_PER_MONTH)
        )

    def fine_and_interest(self, principal_cents: int, days_overdue: int) -> tuple[int, int]:
        """The fine and the interest in centavos for a principal `days_overdue` days late,
        each rounded once, half up, from its exact value."""
        fine, fine_per = self._fine
        rate, rate_per = self._interest_per_day
        return (
            _half_up(principal_cents * fine, fine_per),
            _half_up(principal_cents * rate * days_overdue, rate_per),
        )


@dataclass(frozen=True)
class ChargeBreakdown:
    original_due_date: date
    due_date: date
    days_overdue: int
    principal_cents: int
    fine_cents: int
    interest_cents: int

    @property
    def total_cents(self) -> int:
        return self.principal_cents + self.fine_cents + self.interest_cents

    @property
    def is_overdue(self) -> bool:
        return self.days_overdue > 0


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to a whole number; both are >= 0 here, so
    that is the floor of the value plus a half."""
    return (2 * numerator + denominator) // (2 * denominator)


def apply_overdue_policy(
    original_due_date: date,
    amount_cents: int,
    issue_date: date,
    policy: OverduePolicy | None = None,
) -> ChargeBreakdown:
    """The due date and amounts to bill for a debt issued on `issue_date`."""
    policy = policy or OverduePolicy()
    ensure_barcode_amount(amount_cents)
    if original_due_date >= issue_date:
        return ChargeBreakdown(original_due_date, original_due_date, 0, amount_cents, 0, 0)
    due_date = issue_date + timedelta(days=policy.days_after_issue)
    days_overdue = (due_date - original_due_date).days
    fine, interest = policy.fine_and_interest(amount_cents, days_overdue)
    return ChargeBreakdown(original_due_date, due_date, days_overdue, amount_cents, fine, interest)
