"""When a boleto gets its reminder and its overdue notice: the dates around every edge."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boletos.platform.brasilia import BRASILIA, local_day
from mailer_service.domain import InvalidMailSettings
from mailer_service.domain.delivery import DeliveryKind, Settlement
from mailer_service.domain.schedule import (
    Candidate,
    NoticePolicy,
    NoticeStage,
    Plan,
    plan,
)

REMINDER, OVERDUE = DeliveryKind.REMINDER, DeliveryKind.OVERDUE_NOTICE
AWAITING_REMINDER = NoticeStage.AWAITING_REMINDER
AWAITING_OVERDUE = NoticeStage.AWAITING_OVERDUE_NOTICE
DONE = NoticeStage.DONE
DUE = dt.date(2026, 12, 10)
POLICY = NoticePolicy()  # 3 days before, 1 day after
SENT_EARLY = dt.date(2026, 12, 1)


def day(offset: int) -> dt.date:
    """The due date moved by `offset` days."""
    return DUE + dt.timedelta(days=offset)


def candidate(
    stage: NoticeStage = AWAITING_REMINDER,
    settled_as: Settlement | None = None,
    sent_on: dt.date | None = SENT_EARLY,
) -> Candidate:
    return Candidate(DUE, stage, settled_as, sent_on)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-10, Plan((), AWAITING_REMINDER)),
        (-4, Plan((), AWAITING_REMINDER)),  # the day before the reminder's day
        (-3, Plan((REMINDER,), AWAITING_OVERDUE)),  # its day
        (-1, Plan((REMINDER,), AWAITING_OVERDUE)),  # a scheduler that was down catches up
        (0, Plan((REMINDER,), AWAITING_OVERDUE)),  # the due date itself: still payable
        (1, Plan((OVERDUE,), DONE)),  # too late for a reminder; the overdue notice's day
        (30, Plan((OVERDUE,), DONE)),
    ],
)
def test_a_boleto_awaiting_its_reminder(offset: int, expected: Plan) -> None:
    assert plan(candidate(), day(offset), POLICY) == expected


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, Plan((), AWAITING_OVERDUE)),  # due today: not overdue yet
        (1, Plan((OVERDUE,), DONE)),
        (45, Plan((OVERDUE,), DONE)),
    ],
)
def test_a_boleto_awaiting_its_overdue_notice(offset: int, expected: Plan) -> None:
    assert plan(candidate(AWAITING_OVERDUE), day(offset), POLICY) == expected


def test_the_days_follow_the_policy() -> None:
    policy = NoticePolicy(reminder_days_before=5, overdue_days_after=7)
    assert plan(candidate(), day(-6), policy) == Plan((), AWAITING_REMINDER)
    assert plan(candidate(), day(-5), policy) == Plan((REMINDER,), AWAITING_OVERDUE)
    assert plan(candidate(AWAITING_OVERDUE), day(6), policy) == Plan((), AWAITING_OVERDUE)
    assert plan(candidate(AWAITING_OVERDUE), day(7), policy) == Plan((OVERDUE,), DONE)
    # Zero days before: the reminder goes out on the due date.
    on_the_day = NoticePolicy(reminder_days_before=0)
    assert plan(candidate(), day(-1), on_the_day) == Plan((), AWAITING_REMINDER)
    assert plan(candidate(), day(0), on_the_day) == Plan((REMINDER,), AWAITING_OVERDUE)


@pytest.mark.parametrize("settled_as", list(Settlement))
@pytest.mark.parametrize(
    ("stage", "offset", "spared"),
    [
        (AWAITING_REMINDER, -3, (REMINDER,)),
        (AWAITING_REMINDER, 5, (OVERDUE,)),
        (AWAITING_OVERDUE, 1, (OVERDUE,)),
        (AWAITING_OVERDUE, 0, ()),
    ],
)
def test_a_settled_boleto_gets_nothing_and_leaves_the_schedule(
    settled_as: Settlement, stage: NoticeStage, offset: int, spared: tuple[DeliveryKind, ...]
) -> None:
    assert plan(candidate(stage, settled_as), day(offset), POLICY) == Plan((), DONE, spared)


def test_a_notice_only_follows_a_boleto_e_mailed_before_its_day() -> None:
    reminder_day = day(-3)
    sent_the_day_before = candidate(sent_on=reminder_day - dt.timedelta(days=1))
    assert plan(sent_the_day_before, reminder_day, POLICY).create == (REMINDER,)
    # E-mailed on the reminder's day (issued close to the due date): it is its own reminder.
    for sent_on in (reminder_day, day(-1), None):
        assert plan(candidate(sent_on=sent_on), day(-1), POLICY) == Plan((), AWAITING_OVERDUE)
    # Never sent (failed, or still queued): no overdue notice either.
    assert plan(candidate(AWAITING_OVERDUE, sent_on=None), day(1), POLICY) == Plan((), DONE)
    # E-mailed on the due date: it was there before the overdue notice's day.
    assert plan(candidate(AWAITING_OVERDUE, sent_on=DUE), day(1), POLICY).create == (OVERDUE,)
    assert plan(candidate(AWAITING_OVERDUE, sent_on=day(1)), day(1), POLICY).create == ()


@pytest.mark.parametrize("stage", [NoticeStage.NONE, DONE])
def test_boletos_outside_the_schedule_are_left_alone(stage: NoticeStage) -> None:
    for offset in (-3, 0, 1, 100):
        assert plan(candidate(stage), day(offset), POLICY) == Plan((), stage)


@given(
    offset=st.integers(-400, 400),
    before=st.integers(0, 30),
    after=st.integers(1, 30),
    stage=st.sampled_from([AWAITING_REMINDER, AWAITING_OVERDUE]),
)
def test_each_kind_at_most_once_and_the_stage_only_moves_forward(
    offset: int, before: int, after: int, stage: NoticeStage
) -> None:
    policy = NoticePolicy(before, after)
    today = day(offset)
    first = plan(candidate(stage), today, policy)
    assert first.stage >= stage
    assert len(set(first.create)) == len(first.create)
    # Looking again, that day or any later, never earns what the first look gave.
    for later in (today, today + dt.timedelta(days=1), today + dt.timedelta(days=400)):
        again = plan(candidate(first.stage), later, policy)
        assert not set(again.create) & set(first.create)
        assert again.stage >= first.stage


@given(offset=st.integers(-400, 400), before=st.integers(0, 30), after=st.integers(1, 30))
def test_the_store_query_bounds_select_exactly_the_boletos_that_move(
    offset: int, before: int, after: int
) -> None:
    """The scheduler asks the store for boletos due on or before these days; each one it gets
    must move on, or a look would find the same boletos for ever."""
    policy = NoticePolicy(before, after)
    today = day(offset)
    moves = plan(candidate(), today, policy).stage != AWAITING_REMINDER
    assert moves == (DUE <= policy.latest_due_for_reminder(today))
    moves = plan(candidate(AWAITING_OVERDUE), today, policy).stage != AWAITING_OVERDUE
    assert moves == (DUE <= policy.latest_due_for_overdue_notice(today))


def test_days_are_brasilia_days() -> None:
    # 01:30 UTC on the 11th is still the 10th in Brasília.
    assert local_day(dt.datetime(2026, 12, 11, 1, 30, tzinfo=dt.UTC)) == dt.date(2026, 12, 10)
    assert local_day(dt.datetime(2026, 12, 11, 3, 0, tzinfo=dt.UTC)) == dt.date(2026, 12, 11)
    # SQLite hands back naive UTC times.
    assert local_day(dt.datetime(2026, 12, 11, 2, 59)) == dt.date(2026, 12, 10)
    assert dt.datetime(2026, 12, 10, 21, tzinfo=BRASILIA).utcoffset() == dt.timedelta(hours=-3)


@pytest.mark.parametrize(("before", "after"), [(-1, 1), (3, 0), (True, 1), (3, 1.5), ("3", 1)])
def test_a_policy_refuses_days_it_cannot_use(before: object, after: object) -> None:
    with pytest.raises(InvalidMailSettings):
        NoticePolicy(before, after)  # type: ignore[arg-type]
