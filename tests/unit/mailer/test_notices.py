"""The reminder, the overdue notice and the receipt: pt-BR wording, ids, what is attached."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import default

import pytest

from mailer_service.domain import (
    BoletoMail,
    InvalidAttachment,
    InvalidBoletoMail,
    InvalidRecipient,
    MailSettings,
    compose_mail,
)
from mailer_service.domain.delivery import DeliveryKind, Payment, Queued
from mailer_service.domain.notices import (
    KIND_HEADER,
    compose_delivery,
    compose_notice,
    kind_message_id,
    needs_pdf,
)

DEBT_ID = "528c1f0e-1921-42a9-931d-54ab45309bc0"
LINHA = "00190.00009 01234.567890 12345.678901 2 12340000123456"
PIX = "00020101021226830014br.gov.bcb.pix2561pix.example.com/qr/v2/abc5204000053039865802BR6304ABCD"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
DATE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SETTINGS = MailSettings(
    from_address="Cobranças Exemplo <cobranca@example.com>",
    reply_to="Atendimento <atendimento@example.com>",
)
BOLETO = BoletoMail(
    debt_id=DEBT_ID,
    upload_id="upload-1",
    payer_name="João da Silva",
    email="joao@example.com",
    amount_cents=123_456,
    due_date=date(2026, 12, 10),
    digitable_line=LINHA,
    nosso_numero="12345670000000001",
)
REMINDER, OVERDUE, RECEIPT = (
    DeliveryKind.REMINDER,
    DeliveryKind.OVERDUE_NOTICE,
    DeliveryKind.RECEIPT,
)
PAYMENT = Payment(paid_cents=123_000, paid_on=date(2026, 12, 9))


def queued(kind: DeliveryKind, boleto: BoletoMail = BOLETO, **kwargs: object) -> Queued:
    return Queued(boleto, attempts=1, kind=kind, **kwargs)  # type: ignore[arg-type]


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        assert part.defects == []
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def compose(kind: DeliveryKind, boleto: BoletoMail = BOLETO, **kwargs: object) -> EmailMessage:
    pdf = PDF if needs_pdf(kind) else None
    composed = compose_notice(queued(kind, boleto, **kwargs), pdf, SETTINGS, date=DATE)
    return parse(composed.data)


def test_a_reminder_says_when_the_boleto_falls_due_and_carries_it_again() -> None:
    message = compose(REMINDER)
    assert message["Subject"] == "Lembrete: seu boleto de R$ 1.234,56 vence em 10/12/2026"
    assert message["To"] == "João da Silva <joao@example.com>"
    assert message["Reply-To"] == "Atendimento <atendimento@example.com>"
    assert message[KIND_HEADER] == "reminder"
    assert message["X-Boleto-Debt-Id"] == DEBT_ID
    text = body(message, "plain")
    assert "Olá, João da Silva." in text
    assert "vence em 10/12/2026" in text and "R$ 1.234,56" in text
    assert LINHA in text and "Nosso número: 12345670000000001" in text
    assert "Pix" not in text  # this boleto has no Pix code
    assert "Cobranças Exemplo" in text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"boleto-{DEBT_ID}.pdf"
    assert attachment.get_content() == PDF
    html = body(message, "html")
    assert "<strong>" not in html and "R$ 1.234,56" in html and LINHA in html


def test_an_overdue_notice_says_it_is_overdue_and_carries_the_pix_code() -> None:
    message = compose(OVERDUE, replace(BOLETO, pix_payload=PIX))
    assert message["Subject"] == "Boleto vencido em 10/12/2026: R$ 1.234,56 em aberto"
    assert message[KIND_HEADER] == "overdue_notice"
    text = body(message, "plain")
    assert "Ainda não identificamos o pagamento" in text and "vencido em 10/12/2026" in text
    assert "multa e juros" in text
    assert "Pix copia e cola" in text and PIX in text and LINHA in text
    assert PIX in body(message, "html")
    assert len(list(message.iter_attachments())) == 1


def test_a_receipt_acknowledges_the_payment_without_a_boleto_to_pay_again() -> None:
    message = compose(RECEIPT, replace(BOLETO, pix_payload=PIX), payment=PAYMENT)
    assert message["Subject"] == "Recebemos o pagamento do seu boleto de R$ 1.234,56"
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []
    text = body(message, "plain")
    assert "Recebemos o pagamento de R$ 1.230,00 em 09/12/2026" in text
    assert "vencimento em 10/12/2026" in text
    # Nothing to pay with: no linha digitável, no Pix code.
    assert LINHA not in text and PIX not in text
    assert message[KIND_HEADER] == "receipt"


def test_a_receipt_needs_its_payment() -> None:
    with pytest.raises(InvalidBoletoMail, match="no payment"):
        compose_notice(queued(RECEIPT), None, SETTINGS, date=DATE)


def test_each_kind_has_its_own_deterministic_message_id() -> None:
    ids = {
        kind: parse(
            compose_delivery(
                queued(kind, payment=PAYMENT), PDF if needs_pdf(kind) else None, SETTINGS, date=DATE
            ).data
        )["Message-ID"]
        for kind in DeliveryKind
    }
    assert ids[DeliveryKind.BOLETO] == f"<boleto-{DEBT_ID}@example.com>"
    assert ids[REMINDER] == f"<reminder-{DEBT_ID}@example.com>"
    assert ids[OVERDUE] == f"<overdue-{DEBT_ID}@example.com>"
    assert ids[RECEIPT] == f"<receipt-{DEBT_ID}@example.com>"
    for kind, message_id in ids.items():
        assert kind_message_id(DEBT_ID, "EXAMPLE.com", kind) == message_id
    # Composed again, byte for byte the same: a re-sent notice is the same message.
    first = compose_notice(queued(REMINDER), PDF, SETTINGS, date=DATE)
    assert compose_notice(queued(REMINDER), PDF, SETTINGS, date=DATE) == first
    assert first.envelope.message_id == ids[REMINDER]


def test_the_boleto_kind_is_the_boleto_e_mail_as_before() -> None:
    assert compose_delivery(queued(DeliveryKind.BOLETO), PDF, SETTINGS, date=DATE) == compose_mail(
        BOLETO, PDF, SETTINGS, date=DATE
    )


def test_notices_refuse_what_the_boleto_e_mail_refuses() -> None:
    with pytest.raises(InvalidAttachment):
        compose_notice(queued(REMINDER), b"not a pdf", SETTINGS, date=DATE)
    with pytest.raises(InvalidAttachment):
        compose_notice(queued(OVERDUE), None, SETTINGS, date=DATE)
    with pytest.raises(InvalidRecipient):
        compose_notice(queued(REMINDER, replace(BOLETO, email="a@b\r\nBcc: x@y")), PDF, SETTINGS)
    with pytest.raises(ValueError, match="timezone-aware"):
        compose_notice(queued(REMINDER), PDF, SETTINGS, date=datetime(2026, 12, 7))


def test_a_hostile_name_cannot_add_headers_or_markup() -> None:
    boleto = replace(BOLETO, payer_name="Eve\r\nBcc: all@example.com <b>x</b>")
    message = compose(REMINDER, boleto)
    assert message["Bcc"] is None
    assert "Eve Bcc: all@example.com" in body(message, "plain")
    html = body(message, "html")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
