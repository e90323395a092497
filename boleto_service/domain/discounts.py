"""An early-payment discount: centavos off a boleto when paid by a date, from the file's row
or from the beneficiary's policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class Discount:
    cents: int
    until: dt.date


@dataclass(frozen=True, slots=True)
class DiscountPolicy:
    """A beneficiary's early-payment discount for every debt its file gives none: `percent`
    of the principal off when paid at least `days_before_due` days before the due date."""

    percent: Decimal
    days_before_due: int

    def for_debt(self, principal_cents: int, due_date: dt.date) -> Discount | None:
        cents = int(
            (principal_cents * self.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        )
        if cents <= 0:
            return None
        return Discount(cents, due_date - dt.timedelta(days=self.days_before_due))


def discount_holding(
    discount: Discount | None, issue_date: dt.date, due_date: dt.date, amount_cents: int
) -> Discount | None:
    """The discount a boleto can still offer: a debt billed after its discount date (re-dated
    as overdue) has none left."""
    if discount is None or not issue_date <= discount.until <= due_date:
        return None
    return discount if discount.cents < amount_cents else None


def discount_of(cents: int, until: dt.date | str | None) -> Discount | None:
    """The discount of stored or announced fields; None when there is none."""
    if not cents or not until:
        return None
    return Discount(cents, dt.date.fromisoformat(until) if isinstance(until, str) else until)
