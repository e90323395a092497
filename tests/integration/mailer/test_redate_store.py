"""New due dates in the real mailer store, on SQLite and PostgreSQL: the debt's record moves,
the updated boleto's e-mail is queued once per instruction, a settled boleto gets none, and
the notice schedule follows the new date."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from mailer_service.domain import BoletoMail
from mailer_service.domain.delivery import DeliveryKind, DeliveryStatus, Outcome, Settlement
from mailer_service.domain.redates import Redate
from mailer_service.domain.schedule import NoticeStage
from mailer_service.domain.settlements import BankReport
from mailer_service.store.engine import create_engine, upgrade_schema

from .test_notice_store import (
    DUE,
    LEASE,
    OVERDUE,
    REMINDER,
    REMINDER_DAY,
    Stores,
    notice_rows,
    queued_boletos,
    send_all,
    tick,
)

UPDATED = DeliveryKind.UPDATED
NEW_DUE = DUE + dt.timedelta(days=30)
NEW_LINHA = "00190.00009 01234.567890 12345.678901 9 99990000123456"
ANSWERED = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def stores(database_url: str) -> Iterator[Stores]:
    engine = create_engine(database_url)
    upgrade_schema(engine)
    try:
        yield Stores.on(engine)
    finally:
        engine.dispose()


def redate(
    mail: BoletoMail,
    due: dt.date = NEW_DUE,
    instruction_id: str | None = None,
    answered_at: dt.datetime = ANSWERED,
) -> Redate:
    return Redate(
        debt_id=mail.debt_id,
        upload_id=mail.upload_id,
        instruction_id=instruction_id or str(uuid.uuid4()),
        due_date=due,
        digitable_line=NEW_LINHA,
        amount_cents=mail.amount_cents,
        pix_payload="pix-copia-e-cola",
        answered_at=answered_at,
    )


def sent(stores: Stores, kind: DeliveryKind = UPDATED) -> list[tuple[str, str]]:
    """Claims what is due and records it sent; (debt id, instruction id) of each `kind`."""
    out = []
    for q in stores.deliveries.claim(100, LEASE):
        stores.record(
            [
                Outcome(
                    q.mail.debt_id,
                    q.mail.upload_id,
                    DeliveryStatus.SENT,
                    message_id=f"<{q.kind.label}-{q.mail.debt_id}-{q.mail.due_date}@example.com>",
                    smtp_code=250,
                    kind=q.kind,
                )
            ]
        )
        if q.kind == kind:
            out.append((q.mail.debt_id, q.instruction_id))
    return out


def test_a_new_date_moves_the_record_and_queues_one_updated_e_mail(stores):
    mail, other = queued_boletos(stores, 2)
    moved = redate(mail)

    done = stores.redates.apply_redates([moved])
    assert done.outcomes == {moved.instruction_id: "queued"}
    now = stores.deliveries.boleto_mail(mail.debt_id)
    assert now is not None
    assert (now.due_date, now.digitable_line, now.pix_payload) == (
        NEW_DUE,
        NEW_LINHA,
        "pix-copia-e-cola",
    )
    assert (now.email, now.nosso_numero, now.line) == (mail.email, mail.nosso_numero, mail.line)
    assert stores.deliveries.boleto_mail(other.debt_id) == other

    # The same event again, or in the same batch twice: nothing more.
    assert stores.redates.apply_redates([moved, moved]).outcomes == {
        moved.instruction_id: "ignored"
    }
    [claimed] = stores.deliveries.claim(100, LEASE)
    assert (claimed.kind, claimed.mail.due_date, claimed.instruction_id) == (
        UPDATED,
        NEW_DUE,
        moved.instruction_id,
    )
    assert claimed.mail.digitable_line == NEW_LINHA and claimed.settled_as is None
    stores.record(
        [
            Outcome(
                mail.debt_id,
                mail.upload_id,
                DeliveryStatus.SENT,
                message_id="<updated-1@example.com>",
                smtp_code=250,
                kind=UPDATED,
            )
        ]
    )
    assert stores.redates.apply_redates([moved]).outcomes == {moved.instruction_id: "ignored"}
    assert stores.deliveries.claim(100, LEASE) == []
    record = stores.deliveries.get(mail.debt_id, UPDATED)
    assert record is not None and record.status == DeliveryStatus.SENT
    assert record.message_id == "<updated-1@example.com>"
    [listed] = stores.deliveries.list_for_upload(mail.upload_id, 0, 0, 100, UPDATED)
    assert listed.debt_id == mail.debt_id and listed.kind == UPDATED


def test_a_later_date_is_a_second_e_mail_and_an_older_answer_changes_nothing(stores):
    [mail] = queued_boletos(stores, 1)
    first = redate(mail)
    later_due = NEW_DUE + dt.timedelta(days=10)
    second = redate(mail, later_due, answered_at=ANSWERED + dt.timedelta(days=2))
    stores.redates.apply_redates([first])
    assert sent(stores) == [(mail.debt_id, first.instruction_id)]

    assert stores.redates.apply_redates([second]).outcomes == {second.instruction_id: "queued"}
    [claimed] = stores.deliveries.claim(100, LEASE)
    assert (claimed.kind, claimed.mail.due_date) == (UPDATED, later_due)
    assert claimed.instruction_id == second.instruction_id
    assert claimed.attempts == 1

    # An answer older than the one recorded, arriving late: recorded, but it moves nothing.
    stale = redate(mail, DUE + dt.timedelta(days=5), answered_at=ANSWERED + dt.timedelta(days=1))
    assert stores.redates.apply_redates([stale]).outcomes == {stale.instruction_id: "ignored"}
    now = stores.deliveries.boleto_mail(mail.debt_id)
    assert now is not None and now.due_date == later_due


def test_an_outcome_of_the_e_mail_for_the_date_before_leaves_the_new_one_queued(stores):
    [mail] = queued_boletos(stores, 1)
    stores.redates.apply_redates([redate(mail)])
    [in_flight] = stores.deliveries.claim(100, LEASE)
    assert in_flight.kind == UPDATED
    # While it is being sent, the bank confirms another date.
    newer = redate(mail, NEW_DUE + dt.timedelta(days=3), answered_at=ANSWERED + dt.timedelta(1))
    assert stores.redates.apply_redates([newer]).outcomes == {newer.instruction_id: "queued"}
    stores.record(
        [Outcome(mail.debt_id, mail.upload_id, DeliveryStatus.SENT, "<old@x>", kind=UPDATED)]
    )
    [claimed] = stores.deliveries.claim(100, LEASE)
    assert claimed.mail.due_date == newer.due_date
    assert claimed.instruction_id == newer.instruction_id


@pytest.mark.parametrize("outcome", [Settlement.PAID, Settlement.WRITTEN_OFF])
def test_a_settled_boleto_gets_no_updated_e_mail(stores, outcome):
    [mail] = queued_boletos(stores, 1)
    if outcome == Settlement.PAID:
        report = BankReport(mail.debt_id, mail.upload_id, outcome, 100, 0, dt.date.today())
    else:
        report = BankReport(mail.debt_id, mail.upload_id, outcome)
    stores.settlements.record_bank_reports([report], receipts=False)
    moved = redate(mail)

    assert stores.redates.apply_redates([moved]).outcomes == {moved.instruction_id: "settled"}
    assert stores.deliveries.claim(100, LEASE) == []
    assert stores.deliveries.get(mail.debt_id, UPDATED) is None
    assert stores.schedule.stages()[mail.debt_id] == NoticeStage.DONE
    now = stores.deliveries.boleto_mail(mail.debt_id)
    assert now is not None and now.due_date == NEW_DUE


def test_an_updated_e_mail_queued_before_the_payment_is_dropped_unsent(stores):
    [mail] = queued_boletos(stores, 1)
    stores.redates.apply_redates([redate(mail)])
    report = BankReport(mail.debt_id, mail.upload_id, Settlement.PAID, 100, 0, dt.date.today())
    stores.settlements.record_bank_reports([report], receipts=False)
    [claimed] = stores.deliveries.claim(100, LEASE)
    assert (claimed.kind, claimed.settled_as) == (UPDATED, Settlement.PAID)
    stores.record(
        [Outcome(mail.debt_id, mail.upload_id, DeliveryStatus.PENDING, kind=UPDATED, dropped=True)]
    )
    assert stores.deliveries.get(mail.debt_id, UPDATED) is None


def test_a_debt_the_mailer_does_not_hold_yet_is_left_for_the_next_delivery(stores):
    [mail] = queued_boletos(stores, 1)
    stranger = replace(mail, debt_id=str(uuid.uuid4()))
    early, known = redate(stranger), redate(mail)
    done = stores.redates.apply_redates([early, known])
    assert done.outcomes == {early.instruction_id: "unknown", known.instruction_id: "queued"}
    # Its boleto e-mail arrives: the same event again now applies.
    assert stores.deliveries.enqueue([stranger]) == 1
    again = stores.redates.apply_redates([early, known])
    assert again.outcomes == {early.instruction_id: "queued", known.instruction_id: "ignored"}


def test_the_schedule_follows_the_new_date_and_sends_no_notice_twice(stores):
    reminded, queued_only, untouched = queued_boletos(stores, 3)
    # On the old reminder day each gets its reminder; one of them is sent.
    assert tick(stores, REMINDER_DAY) == {REMINDER: 3}
    claimed = stores.deliveries.claim(100, LEASE)
    for q in claimed:
        status = DeliveryStatus.SENT if q.mail.debt_id == reminded.debt_id else None
        if status is None:
            stores.deliveries.release([q.key])
        else:
            stores.record([Outcome(q.mail.debt_id, q.mail.upload_id, status, "<r@x>", kind=q.kind)])

    moves = [redate(reminded), redate(queued_only)]
    stores.redates.apply_redates(moves)
    sent(stores)
    # The reminder that went for the old date stays; the one still queued is withdrawn.
    kinds = {(debt, kind) for debt, kind, _ in notice_rows(stores)}
    assert kinds == {
        (reminded.debt_id, REMINDER),
        (untouched.debt_id, REMINDER),
    }
    stages = stores.schedule.stages()
    assert stages[reminded.debt_id] == NoticeStage.AWAITING_OVERDUE_NOTICE
    assert stages[queued_only.debt_id] == NoticeStage.AWAITING_REMINDER
    assert stages[untouched.debt_id] == NoticeStage.AWAITING_OVERDUE_NOTICE

    # The old date passes: the unmoved boleto is overdue, the moved ones are not.
    assert tick(stores, DUE + dt.timedelta(days=1)) == {OVERDUE: 1}
    # The new date's reminder day: a reminder to the one that had none, not again to the other.
    assert tick(stores, NEW_DUE - dt.timedelta(days=3)) == {REMINDER: 1}
    assert (queued_only.debt_id, REMINDER) in {(d, k) for d, k, _ in notice_rows(stores)}
    assert tick(stores, NEW_DUE) == {}
    # An overdue notice only after the new date, once each.
    assert tick(stores, NEW_DUE + dt.timedelta(days=1)) == {OVERDUE: 2}
    assert tick(stores, NEW_DUE + dt.timedelta(days=9)) == {}
    send_all(stores)
    per_kind = [(d, k) for d, k, _ in notice_rows(stores)]
    assert len(per_kind) == len(set(per_kind)) == 6


def test_an_updated_e_mail_on_the_reminders_day_stands_for_the_reminder(stores):
    [mail] = queued_boletos(stores, 1)
    today = dt.date.today()
    moved = redate(mail, today + dt.timedelta(days=2))
    stores.redates.apply_redates([moved])
    assert sent(stores) == [(mail.debt_id, moved.instruction_id)]
    # The new date's reminder day has come, but the payer got the updated boleto today.
    assert tick(stores, today) == {}
    assert stores.schedule.stages()[mail.debt_id] == NoticeStage.AWAITING_OVERDUE_NOTICE
