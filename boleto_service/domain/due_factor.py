"""FEBRABAN due-date factor (fator de vencimento), its 2025 reset and the payable window."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import DueDateOutsidePayableWindow, InvalidDueDate

FACTOR_BASE_DATE = date(1997, 10, 7)
MIN_FACTOR = 1000
MAX_FACTOR = 9999
# The factor has four digits. Past 9999 (2025-02-21) FEBRABAN restarts at 1000 (2025-02-22), so
# the same factor recurs every 9999 - 1000 + 1 = 9000 days.
CYCLE_DAYS = MAX_FACTOR - MIN_FACTOR + 1
# Factors below 1000 were only used before 2000-07-03 and never come back after the resets.
FIRST_DATE_WITH_FACTOR = FACTOR_BASE_DATE + timedelta(days=MIN_FACTOR)

# FEBRABAN's rule for resolving a factor to a date, and for what banks accept: up to 3000 days
# before and 5500 days after the current date. The window (8501 days) is shorter than a cycle,
# so each factor names exactly one date inside it.
DAYS_BEFORE_TODAY = 3000
DAYS_AFTER_TODAY = 5500


def due_factor(due_date: date) -> int:
    """Factor printed in barcode positions 6-9 for a due date (1000..9999)."""
    if due_date < FIRST_DATE_WITH_FACTOR:
        raise InvalidDueDate(
            f"due date {due_date.isoformat()} is before {FIRST_DATE_WITH_FACTOR.isoformat()}, "
            "the first date with a four-digit due-date factor"
        )
    days = (due_date - FACTOR_BASE_DATE).days
    return MIN_FACTOR + (days - MIN_FACTOR) % CYCLE_DAYS


@dataclass(frozen=True)
class PayableWindow:
    """The inclusive range of due dates banks accept on a given day."""

    earliest: date
    latest: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.earliest <= day <= self.latest


# Asked for every boleto issued, with the same day each time.
@functools.lru_cache(maxsize=16)
def payable_window(today: date) -> PayableWindow:
    return PayableWindow(
        earliest=today - timedelta(days=DAYS_BEFORE_TODAY),
        latest=today + timedelta(days=DAYS_AFTER_TODAY),
    )


def date_for_factor(factor: int, reference_date: date) -> date:
    """The one date with this factor inside the payable window around `reference_date`."""
    if isinstance(factor, bool) or not isinstance(factor, int):
        raise InvalidDueDate(f"a due-date factor is an integer, got {factor!r}")
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise InvalidDueDate(f"due-date factor must be {MIN_FACTOR}..{MAX_FACTOR}, got {factor}")
    window = payable_window(reference_date)
    earliest_days = (window.earliest - FACTOR_BASE_DATE).days
    # Days since the base date of every date with this factor: factor + k * CYCLE_DAYS, k >= 0.
    # Take the smallest such k landing on or after the window's start.
    cycles = max(0, -((factor - earliest_days) // CYCLE_DAYS))
    candidate = FACTOR_BASE_DATE + timedelta(days=factor + cycles * CYCLE_DAYS)
    if candidate not in window:
        raise InvalidDueDate(
            f"no date with factor {factor} lies between {window.earliest.isoformat()} and "
            f"{window.latest.isoformat()}, the payable window around {reference_date.isoformat()}"
        )
    return candidate


def ensure_payable(due_date: date, today: date) -> None:
    """Refuse a due date banks would reject on `today`, saying why."""
    window = payable_window(today)
    if due_date < window.earliest:
        days = (today - due_date).days
        raise DueDateOutsidePayableWindow(
            due_date,
            today,
            f"due date {due_date.isoformat()} is {days} days before {today.isoformat()}; "
            f"banks accept boletos at most {DAYS_BEFORE_TODAY} days past due",
        )
    if due_date > window.latest:
        days = (due_date - today).days
        raise DueDateOutsidePayableWindow(
            due_date,
            today,
            f"due date {due_date.isoformat()} is {days} days after {today.isoformat()}; "
            f"banks accept due dates at most {DAYS_AFTER_TODAY} days ahead",
        )
