from __future__ import annotations

import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from boleto_service.domain.charges import OverduePolicy, apply_overdue_policy
from boleto_service.domain.errors import InvalidAmount, InvalidOverduePolicy

ISSUE = date(2024, 1, 31)


@pytest.mark.parametrize("due", [ISSUE, date(2024, 3, 1)])
def test_debt_not_yet_overdue_keeps_date_and_amount(due: date) -> None:
    policy = OverduePolicy(fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))
    charges = apply_overdue_policy(due, 10_000, ISSUE, policy)
    assert charges.due_date == due
    assert charges.original_due_date == due
    assert (charges.fine_cents, charges.interest_cents, charges.total_cents) == (0, 0, 10_000)
    assert not charges.is_overdue


def test_default_policy_only_moves_the_date() -> None:
    charges = apply_overdue_policy(date(2023, 5, 10), 10_000, ISSUE)
    assert charges.due_date == date(2024, 2, 5)
    assert charges.days_overdue == 271
    assert (charges.fine_cents, charges.interest_cents, charges.total_cents) == (0, 0, 10_000)
    assert charges.is_overdue


def test_fine_and_pro_rata_interest() -> None:
    policy = OverduePolicy(
        days_after_issue=5, fine_percent=Decimal(2), monthly_interest_percent=Decimal(1)
    )
    charges = apply_overdue_policy(date(2024, 1, 1), 10_000, ISSUE, policy)
    # New due date 2024-02-05: 35 days after 2024-01-01.
    assert charges.due_date == date(2024, 2, 5)
    assert charges.days_overdue == 35
    assert charges.fine_cents == 200
    # 10000 * 1% * 35 / 30 = 116.67 centavos -> 117.
    assert charges.interest_cents == 117
    assert charges.total_cents == 10_317


def test_interest_uses_thirty_day_months_whatever_the_calendar() -> None:
    # February 2024 has 29 days, yet 30 days overdue is exactly one month of interest.
    policy = OverduePolicy(days_after_issue=0, monthly_interest_percent=Decimal(3))
    charges = apply_overdue_policy(date(2024, 2, 1), 100_000, date(2024, 3, 2), policy)
    assert charges.days_overdue == 30
    assert charges.interest_cents == 3_000


def test_rounding_is_half_up() -> None:
    # 1% of 50 centavos is exactly 0.5: HALF_UP gives 1 (banker's rounding would give 0).
    fine_only = OverduePolicy(days_after_issue=0, fine_percent=Decimal(1))
    assert apply_overdue_policy(date(2024, 1, 1), 50, ISSUE, fine_only).fine_cents == 1
    # 150 * 1% * 10 / 30 is exactly 0.5.
    interest_only = OverduePolicy(days_after_issue=0, monthly_interest_percent=Decimal(1))
    charges = apply_overdue_policy(date(2024, 1, 21), 150, ISSUE, interest_only)
    assert charges.days_overdue == 10
    assert charges.interest_cents == 1
    # Just below half rounds down: 149 * 1% * 10 / 30 = 0.4966...
    assert apply_overdue_policy(date(2024, 1, 21), 149, ISSUE, interest_only).interest_cents == 0


def test_fractional_percentages() -> None:
    policy = OverduePolicy(
        days_after_issue=3, fine_percent=Decimal("2.5"), monthly_interest_percent=Decimal("0.33")
    )
    charges = apply_overdue_policy(date(2023, 12, 31), 123_456, ISSUE, policy)
    assert charges.days_overdue == 34
    assert charges.fine_cents == 3_086  # 3086.4
    assert charges.interest_cents == 462  # 123456 * 0.33 * 34 / 3000 = 461.72...


def test_int_percentages_become_decimal() -> None:
    policy = OverduePolicy(fine_percent=2, monthly_interest_percent=1)  # type: ignore[arg-type]
    assert policy.fine_percent == Decimal(2) and isinstance(policy.fine_percent, Decimal)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fine_percent": 2.0},
        {"monthly_interest_percent": Decimal("-1")},
        {"fine_percent": Decimal("Infinity")},
        {"days_after_issue": -1},
        {"days_after_issue": 2.5},
        {"days_after_issue": True},
    ],
)
def test_invalid_policies(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidOverduePolicy):
        OverduePolicy(**kwargs)  # type: ignore[arg-type]


def test_amount_must_be_integer_cents() -> None:
    with pytest.raises(InvalidAmount):
        apply_overdue_policy(date(2024, 1, 1), 100.0, ISSUE)  # type: ignore[arg-type]


def _decimal_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_the_integer_arithmetic_gives_what_decimal_arithmetic_does() -> None:
    """The charges are computed on exact fractions of the principal; the rules are written
    in Decimal terms, so every case here is checked against them, ties included."""
    cases = random.Random(20221005)
    percents = [
        Decimal(0),
        Decimal(1),
        Decimal(2),
        Decimal("2.5"),
        Decimal("0.033"),
        Decimal("9.99"),
    ]
    for _ in range(20_000):
        fine, monthly = cases.choice(percents), cases.choice(percents)
        policy = OverduePolicy(cases.randint(1, 30), fine, monthly)
        principal = cases.choice([cases.randint(1, 99), cases.randint(1, 10**10 - 1), 2, 50, 150])
        days = cases.randint(0, 2000)
        expected = (
            _decimal_half_up(Decimal(principal) * fine / 100),
            _decimal_half_up(Decimal(principal) * monthly * days / (100 * 30)),
        )
        assert policy.fine_and_interest(principal, days) == expected, (principal, fine, monthly)
