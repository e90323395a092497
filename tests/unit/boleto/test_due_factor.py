from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.due_factor import (
    DAYS_AFTER_TODAY,
    DAYS_BEFORE_TODAY,
    FIRST_DATE_WITH_FACTOR,
    date_for_factor,
    due_factor,
    ensure_payable,
    payable_window,
)
from boleto_service.domain.errors import DueDateOutsidePayableWindow, InvalidDueDate


@pytest.mark.parametrize(
    ("due", "factor"),
    [
        # brcobranca spec/brcobranca/calculo_data_spec.rb.
        (date(2000, 7, 3), 1000),
        (date(2000, 7, 5), 1002),
        (date(2002, 5, 1), 1667),
        (date(2008, 2, 1), 3769),
        (date(2010, 11, 17), 4789),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2025, 2, 23), 1001),
        # boleto2net Boleto2.Net.Testes/FatorVencimento.cs.
        (date(2014, 1, 18), 5947),
        (date(2014, 3, 12), 6000),
        (date(2017, 1, 21), 7046),
        # Itaú's published table, quoted in eduardocereto/pyboleto issue #75: 9999 = 2049-10-13.
        (date(2025, 2, 26), 1004),
        (date(2049, 10, 13), 9999),
    ],
)
def test_published_factors(due: date, factor: int) -> None:
    assert due_factor(due) == factor


def test_reset_arithmetic() -> None:
    # 1997-10-07 + 9999 days is the last day of the first run; the second run has 9000 days.
    assert date(1997, 10, 7) + timedelta(days=9999) == date(2025, 2, 21)
    assert date(2025, 2, 22) + timedelta(days=8999) == date(2049, 10, 13)
    assert due_factor(date(2049, 10, 14)) == 1000
    assert due_factor(date(2049, 10, 14) + timedelta(days=8999)) == 9999


def test_dates_before_the_first_four_digit_factor_are_refused() -> None:
    assert FIRST_DATE_WITH_FACTOR == date(2000, 7, 3)
    with pytest.raises(InvalidDueDate, match="2000-07-03"):
        due_factor(date(2000, 7, 2))


@pytest.mark.parametrize(
    ("factor", "reference", "expected"),
    [
        (1000, date(2025, 3, 1), date(2025, 2, 22)),
        (1000, date(2005, 1, 1), date(2000, 7, 3)),
        (9999, date(2025, 2, 20), date(2025, 2, 21)),
        (9999, date(2033, 1, 1), date(2025, 2, 21)),
        (9999, date(2041, 1, 1), date(2049, 10, 13)),
        (1000, date(2049, 10, 20), date(2049, 10, 14)),
        (2548, date(2025, 11, 1), date(2029, 5, 20)),
    ],
)
def test_date_for_factor_picks_the_date_in_the_window(
    factor: int, reference: date, expected: date
) -> None:
    assert date_for_factor(factor, reference) == expected


@pytest.mark.parametrize("factor", [0, 999, 10000, -1])
def test_date_for_factor_refuses_factors_outside_four_digits(factor: int) -> None:
    with pytest.raises(InvalidDueDate):
        date_for_factor(factor, date(2025, 1, 1))


def test_date_for_factor_refuses_when_no_date_fits() -> None:
    # In 1990 the window reaches only to 2005-01-22; factor 9999 was first used in 2025.
    with pytest.raises(InvalidDueDate, match="payable window"):
        date_for_factor(9999, date(1990, 1, 1))


def test_payable_window_bounds_are_inclusive() -> None:
    today = date(2025, 11, 26)
    ensure_payable(today - timedelta(days=DAYS_BEFORE_TODAY), today)
    ensure_payable(today + timedelta(days=DAYS_AFTER_TODAY), today)
    window = payable_window(today)
    assert window.earliest == date(2017, 9, 9)
    assert window.latest == date(2040, 12, 17)
    assert today in window


def test_due_date_too_far_ahead_is_refused_with_a_reason() -> None:
    today = date(2025, 11, 26)
    too_late = today + timedelta(days=DAYS_AFTER_TODAY + 1)
    with pytest.raises(DueDateOutsidePayableWindow) as refused:
        ensure_payable(too_late, today)
    assert refused.value.due_date == too_late
    assert refused.value.today == today
    assert "5501 days after" in refused.value.reason
    assert "5500" in refused.value.reason


def test_due_date_too_far_back_is_refused_with_a_reason() -> None:
    today = date(2025, 11, 26)
    with pytest.raises(DueDateOutsidePayableWindow, match="3001 days before.*3000"):
        ensure_payable(today - timedelta(days=DAYS_BEFORE_TODAY + 1), today)


_REFERENCES = st.dates(min_value=date(2009, 1, 1), max_value=date(2090, 12, 31))


@given(reference=_REFERENCES, offset=st.integers(-DAYS_BEFORE_TODAY, DAYS_AFTER_TODAY))
def test_factor_round_trips_within_the_window(reference: date, offset: int) -> None:
    due = reference + timedelta(days=offset)
    assert 1000 <= due_factor(due) <= 9999
    assert date_for_factor(due_factor(due), reference) == due


@given(st.dates(min_value=FIRST_DATE_WITH_FACTOR, max_value=date(2099, 12, 30)))
def test_factor_advances_one_per_day_and_wraps_to_1000(day: date) -> None:
    today, tomorrow = due_factor(day), due_factor(day + timedelta(days=1))
    assert tomorrow == (1000 if today == 9999 else today + 1)
