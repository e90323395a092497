"""The updated boleto after a new due date: its e-mail (pt-BR wording, PDF, linha digitável and
Pix, a Message-ID per new date), the event it comes from, and the schedule on the new date."""

from __future__ import annotations

import datetime as dt
import email
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default

import pytest

from boletos.v1 import events_pb2
from mailer_service.domain import BoletoMail, InvalidAttachment, InvalidBoletoMail, MailSettings
from mailer_service.domain.delivery import DeliveryKind, Queued
from mailer_service.domain.notices import KIND_HEADER, compose_delivery, needs_pdf
from mailer_service.domain.redates import Redate
from mailer_service.domain.schedule import (
    Candidate,
    NoticePolicy,
    NoticeStage,
    plan,
    restage,
)

DEBT_ID = "528c1f0e-1921-42a9-931d-54ab45309bc0"
INSTRUCTION = "9d0f6a52-2f7e-4a53-8d1e-1f3c2b6e7a10"
LINHA = "00190.00009 01234.567890 12345.678901 2 12340000123456"
PIX = "00020101021226830014br.gov.bcb.pix2561pix.example.com/qr/v2/abc5204000053039865802BR6304ABCD"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
SENT_AT = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
NEW_DUE = dt.date(2027, 1, 15)
SETTINGS = MailSettings(from_address="Cobranças Exemplo <cobranca@example.com>")
BOLETO = BoletoMail(
    debt_id=DEBT_ID,
    upload_id="upload-1",
    payer_name="João da Silva",
    email="joao@example.com",
    amount_cents=123_456,
    due_date=NEW_DUE,
    digitable_line=LINHA,
    nosso_numero="12345670000000001",
    pix_payload=PIX,
)
UPDATED = DeliveryKind.UPDATED
POLICY = NoticePolicy(reminder_days_before=3, overdue_days_after=1)


def updated(boleto: BoletoMail = BOLETO, instruction_id: str = INSTRUCTION) -> Queued:
    return Queued(boleto, attempts=1, kind=UPDATED, instruction_id=instruction_id)


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_updated_boleto_names_its_new_date_and_carries_the_pdf_linha_and_pix() -> None:
    assert needs_pdf(UPDATED)
    composed = compose_delivery(updated(), PDF, SETTINGS, date=SENT_AT)
    message = parse(composed.data)

    assert message["Subject"] == "Boleto atualizado: novo vencimento 15/01/2027"
    assert message[KIND_HEADER] == "updated"
    assert composed.envelope.recipient == "joao@example.com"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content()
    assert "Olá, João da Silva." in body
    assert "R$ 1.234,56 foi alterado para 15/01/2027" in body
    assert LINHA in body and PIX in body
    assert "Pix copia e cola" in body
    assert LINHA in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"boleto-{DEBT_ID}.pdf"
    assert attachment.get_content() == PDF


def test_without_pix_the_body_offers_none_and_a_non_pdf_is_refused() -> None:
    plain = replace(BOLETO, pix_payload="")
    body = parse(compose_delivery(updated(plain), PDF, SETTINGS, date=SENT_AT).data)
    text = body.get_body(("plain",))
    assert text is not None and "Pix" not in text.get_content()
    with pytest.raises(InvalidAttachment):
        compose_delivery(updated(), b"<html>", SETTINGS, date=SENT_AT)


def test_each_new_date_has_its_own_message_id_and_a_resend_keeps_it() -> None:
    first = compose_delivery(updated(), PDF, SETTINGS, date=SENT_AT)
    again = compose_delivery(updated(), PDF, SETTINGS, date=SENT_AT)
    assert again == first
    later = replace(BOLETO, due_date=dt.date(2027, 2, 1))
    second = compose_delivery(updated(later, "another-instruction"), PDF, SETTINGS, date=SENT_AT)
    # The first date asked for again, by a later instruction: still another e-mail.
    back = compose_delivery(updated(BOLETO, "a-third-one"), PDF, SETTINGS, date=SENT_AT)

    ids = [m.envelope.message_id for m in (first, second, back)]
    assert ids[0].startswith(f"<updated-{DEBT_ID}-20270115-") and ids[0].endswith("@example.com>")
    assert ids[1].startswith(f"<updated-{DEBT_ID}-20270201-")
    assert len(set(ids)) == 3
    boleto_id = compose_delivery(
        Queued(BOLETO, attempts=1), PDF, SETTINGS, date=SENT_AT
    ).envelope.message_id
    assert boleto_id not in ids


def _event(**changes: object) -> events_pb2.RedatedBoleto:
    event = events_pb2.RedatedBoleto(
        debt_id=DEBT_ID,
        upload_id="upload-1",
        due_date="2027-01-15",
        digitable_line=LINHA,
        amount_cents=123_456,
        pix_payload=PIX,
        instruction_id=INSTRUCTION,
    )
    event.answered_at.FromDatetime(SENT_AT)
    for name, value in changes.items():
        setattr(event, name, value)
    return event


def test_a_redated_event_reads_into_a_redate_and_a_broken_one_is_refused() -> None:
    redate = Redate.from_event(_event())
    assert (redate.debt_id, redate.instruction_id, redate.due_date) == (
        DEBT_ID,
        INSTRUCTION,
        NEW_DUE,
    )
    assert (redate.amount_cents, redate.pix_payload, redate.answered_at) == (123_456, PIX, SENT_AT)
    for broken in (
        {"due_date": "15/01/2027"},
        {"debt_id": "not a debt id!"},
        {"instruction_id": ""},
        {"amount_cents": -1},
        {"digitable_line": " "},
    ):
        with pytest.raises(InvalidBoletoMail):
            Redate.from_event(_event(**broken))


@pytest.mark.parametrize(
    ("stage", "settled", "had", "expected"),
    [
        # Nothing had yet: the reminder comes before the new date.
        (NoticeStage.AWAITING_OVERDUE_NOTICE, False, set(), NoticeStage.AWAITING_REMINDER),
        (NoticeStage.DONE, False, set(), NoticeStage.AWAITING_REMINDER),
        # The reminder went for the old date: not again; the overdue notice after the new one.
        (
            NoticeStage.AWAITING_OVERDUE_NOTICE,
            False,
            {DeliveryKind.REMINDER},
            NoticeStage.AWAITING_OVERDUE_NOTICE,
        ),
        (NoticeStage.DONE, False, {DeliveryKind.REMINDER}, NoticeStage.AWAITING_OVERDUE_NOTICE),
        (
            NoticeStage.DONE,
            False,
            {DeliveryKind.REMINDER, DeliveryKind.OVERDUE_NOTICE},
            NoticeStage.DONE,
        ),
        (NoticeStage.AWAITING_REMINDER, True, set(), NoticeStage.DONE),
        # Queued before notices existed: never scheduled, whatever its date.
        (NoticeStage.NONE, False, set(), NoticeStage.NONE),
    ],
)
def test_a_moved_date_puts_the_boleto_at_the_first_notice_it_has_not_had(
    stage: NoticeStage, settled: bool, had: set[DeliveryKind], expected: NoticeStage
) -> None:
    assert restage(stage, settled, had) == expected


def test_the_schedule_counts_its_days_from_the_new_date() -> None:
    old_due = dt.date(2026, 12, 10)
    sent_on = dt.date(2026, 12, 1)
    # After the old date, before the new one's reminder day: nothing yet, overdue or not.
    restaged = restage(NoticeStage.DONE, False, set())
    waiting = Candidate(NEW_DUE, restaged, None, sent_on)
    assert plan(waiting, old_due + dt.timedelta(days=5), POLICY).create == ()
    on_reminder_day = plan(waiting, NEW_DUE - dt.timedelta(days=3), POLICY)
    assert on_reminder_day.create == (DeliveryKind.REMINDER,)
    # The overdue notice only once the new date has passed.
    after_reminder = Candidate(NEW_DUE, on_reminder_day.stage, None, sent_on)
    assert plan(after_reminder, NEW_DUE, POLICY).create == ()
    assert plan(after_reminder, NEW_DUE + dt.timedelta(days=1), POLICY).create == (
        DeliveryKind.OVERDUE_NOTICE,
    )


def test_an_updated_boleto_sent_on_the_reminders_day_is_its_own_reminder() -> None:
    # Redated to three days from now: the updated e-mail goes today, no reminder follows it.
    today = NEW_DUE - dt.timedelta(days=3)
    candidate = Candidate(NEW_DUE, NoticeStage.AWAITING_REMINDER, None, boleto_sent_on=today)
    decided = plan(candidate, today, POLICY)
    assert decided.create == ()
    assert decided.stage == NoticeStage.AWAITING_OVERDUE_NOTICE
