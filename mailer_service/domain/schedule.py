"""When a boleto gets a reminder or an overdue notice: pure decisions on dates.

Each boleto queued for e-mail waits at a stage of its schedule: for the reminder's day
(`reminder_days_before` days before the due date), then for the overdue notice's day
(`overdue_days_after` days after it), then nothing. Each time the scheduler looks, a boleto
whose day has come moves on, with the notice it earned:

- a reminder goes out from its day up to and including the due date (a scheduler that was
  down catches up, and on the due date the boleto can still be paid without charges); a
  boleto not looked at until after its due date gets no reminder;
- an overdue notice goes out from its day on, however late;
- a boleto paid, written off or refused by the bank gets neither, and moves to the end;
- a notice only follows a boleto e-mail that reached the payer on an earlier day: a boleto
  e-mailed on or after the notice's day (issued close to its due date, or whose e-mail went
  out late) is its own reminder, and a payer is never sent two e-mails about the same thing
  minutes apart.

Days are calendar days in Brasília time, as the boleto service dates its boletos.

When the bank confirms a new due date the schedule follows it (`restage`): the days above
are counted from the new date, and the boleto goes back to the first stage whose notice it
has not had. A reminder or overdue notice that reached the payer (or may have: sending,
uncertain) for the old date is not sent again, since a debt gets at most one of each; one
still queued or failed for the old date is withdrawn, and made again for the new date when
its day comes. The updated boleto's e-mail then counts as the boleto e-mail: a notice only
follows it on a later day, so a payer redated close to the reminder's day gets the updated
boleto and not, minutes later, a reminder saying the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from .delivery import DeliveryKind, Settlement
from .errors import InvalidMailSettings


class NoticeStage(IntEnum):
    """Where a boleto is in its schedule; the store keeps these numbers."""

    # Queued before scheduled notices existed, or by a replica of that release: the mailer
    # knows nothing of how such a boleto was paid, so it never sends it a notice.
    NONE = 0
    AWAITING_REMINDER = 1
    AWAITING_OVERDUE_NOTICE = 2
    DONE = 3


@dataclass(frozen=True, slots=True)
class NoticePolicy:
    reminder_days_before: int = 3
    overdue_days_after: int = 1

    def __post_init__(self) -> None:
        before, after = self.reminder_days_before, self.overdue_days_after
        if isinstance(before, bool) or not isinstance(before, int) or before < 0:
            raise InvalidMailSettings(f"reminder_days_before must be an int >= 0, got {before!r}")
        if isinstance(after, bool) or not isinstance(after, int) or after < 1:
            raise InvalidMailSettings(f"overdue_days_after must be an int >= 1, got {after!r}")

    def reminder_day(self, due_date: dt.date) -> dt.date:
        return due_date - dt.timedelta(days=self.reminder_days_before)

    def overdue_day(self, due_date: dt.date) -> dt.date:
        return due_date + dt.timedelta(days=self.overdue_days_after)

    def latest_due_for_reminder(self, today: dt.date) -> dt.date:
        """Boletos due on or before this day have reached their reminder's day."""
        return today + dt.timedelta(days=self.reminder_days_before)

    def latest_due_for_overdue_notice(self, today: dt.date) -> dt.date:
        """Boletos due on or before this day have reached their overdue notice's day."""
        return today - dt.timedelta(days=self.overdue_days_after)


def restage(
    stage: NoticeStage, settled: bool, had: frozenset[DeliveryKind] | set[DeliveryKind]
) -> NoticeStage:
    """The stage of a boleto whose due date moved, given the notices it `had` for the old
    date (those that reached the payer, or may have): the first one it still lacks."""
    if stage == NoticeStage.NONE:
        return stage  # queued before notices existed: it is never sent one
    if settled:
        return NoticeStage.DONE
    if DeliveryKind.REMINDER not in had:
        return NoticeStage.AWAITING_REMINDER
    if DeliveryKind.OVERDUE_NOTICE not in had:
        return NoticeStage.AWAITING_OVERDUE_NOTICE
    return NoticeStage.DONE


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the scheduler knows of one boleto when it looks."""

    due_date: dt.date
    stage: NoticeStage
    # Paid, written off or refused by the bank; None while none of these was reported.
    settled_as: Settlement | None
    # The day (Brasília) the boleto e-mail was accepted; None while it is not sent. Once the
    # due date moved, the updated boleto's e-mail stands for it.
    boleto_sent_on: dt.date | None


@dataclass(frozen=True, slots=True)
class Plan:
    """The notices to create now, those a settled boleto was spared, and the next stage."""

    create: tuple[DeliveryKind, ...]
    stage: NoticeStage
    skipped: tuple[DeliveryKind, ...] = ()


def plan(candidate: Candidate, today: dt.date, policy: NoticePolicy) -> Plan:
    stage = candidate.stage
    if stage in (NoticeStage.NONE, NoticeStage.DONE):
        return Plan((), stage)
    earned: list[DeliveryKind] = []
    due = candidate.due_date
    sent_on = candidate.boleto_sent_on

    def had_boleto_before(day: dt.date) -> bool:
        return sent_on is not None and sent_on < day

    if stage == NoticeStage.AWAITING_REMINDER:
        day = policy.reminder_day(due)
        if today < day:
            return Plan((), stage)
        if today <= due and had_boleto_before(day):
            earned.append(DeliveryKind.REMINDER)
        stage = NoticeStage.AWAITING_OVERDUE_NOTICE
    day = policy.overdue_day(due)
    if today >= day:
        if had_boleto_before(day):
            earned.append(DeliveryKind.OVERDUE_NOTICE)
        stage = NoticeStage.DONE
    if candidate.settled_as is not None:
        return Plan((), NoticeStage.DONE, skipped=tuple(earned))
    return Plan(tuple(earned), stage)
