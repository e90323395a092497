from __future__ import annotations

import email
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer_service.domain import (
    BoletoMail,
    InvalidAttachment,
    InvalidRecipient,
    MailCompositionError,
    MailSettings,
    compose,
    compose_mail,
)
from mailer_service.domain.headers import single_line

DEBT_ID = "528c1f0e-1921-42a9-931d-54ab45309bc0"
LINHA = "00190.00009 01234.567890 12345.678901 2 12340000123456"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 10 + b"\n%%EOF\n"
DATE = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
SETTINGS = MailSettings(
    from_address="Cobranças Exemplo <cobranca@example.com>",
    reply_to="Atendimento <atendimento@example.com>",
)
BOLETO = BoletoMail(
    debt_id=DEBT_ID,
    upload_id="upload-1",
    payer_name="Miss Lisa Wright MD",
    email="lisa@example.com",
    amount_cents=123_456,
    due_date=date(2026, 12, 1),
    digitable_line=LINHA,
    nosso_numero="12345670000000001",
)


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        assert part.defects == []
    return message


def _compose(boleto: BoletoMail = BOLETO, mail_settings: MailSettings = SETTINGS) -> EmailMessage:
    return _parse(compose(boleto, PDF, mail_settings, date=DATE))


def _text(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


def test_headers() -> None:
    message = _compose()
    assert message["From"] == "Cobranças Exemplo <cobranca@example.com>"
    assert message["To"] == "Miss Lisa Wright MD <lisa@example.com>"
    assert message["Reply-To"] == "Atendimento <atendimento@example.com>"
    assert message["Subject"] == "Seu boleto de R$ 1.234,56 vence em 01/12/2026"
    assert message["Date"].datetime == DATE
    assert message["Message-ID"] == f"<boleto-{DEBT_ID}@example.com>"
    assert message["X-Boleto-Debt-Id"] == DEBT_ID
    assert message["MIME-Version"] == "1.0"
    assert list(message.keys()) == [
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "X-Boleto-Debt-Id",
        "MIME-Version",
        "Content-Type",
    ]


def test_no_reply_to_without_one_configured() -> None:
    message = _compose(mail_settings=MailSettings(from_address="cobranca@example.com"))
    assert "Reply-To" not in message
    assert message["From"] == "cobranca@example.com"


def test_structure_and_alternatives() -> None:
    message = _compose()
    assert message.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    text = _text(message, "plain")
    html = _text(message, "html")
    for body in (text, html):
        assert "Miss Lisa Wright MD" in body
        assert "R$ 1.234,56" in body
        assert "01/12/2026" in body
        assert LINHA in body
        assert "12345670000000001" in body
        assert "Cobranças Exemplo" in body
    assert text.startswith("Olá, Miss Lisa Wright MD.\n")
    assert html.startswith("<!DOCTYPE html>")


def test_attachment_is_the_pdf_byte_for_byte() -> None:
    (attachment,) = _compose().iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == f"boleto-{DEBT_ID}.pdf"
    assert attachment.get_content() == PDF


def test_every_line_ends_in_crlf_and_fits_smtp() -> None:
    data = compose(BOLETO, PDF, SETTINGS, date=DATE)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert data.isascii()
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


def test_text_bodies_are_canonical_crlf() -> None:
    message = _compose()
    body = message.get_body(("plain",))
    assert body is not None
    raw = body.get_payload(decode=True)
    assert isinstance(raw, bytes)
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_output_is_deterministic_for_a_given_date() -> None:
    assert compose(BOLETO, PDF, SETTINGS, date=DATE) == compose(BOLETO, PDF, SETTINGS, date=DATE)
    later = compose(BOLETO, PDF, SETTINGS, date=DATE + timedelta(seconds=1))
    assert later != compose(BOLETO, PDF, SETTINGS, date=DATE)


def test_date_defaults_to_now_and_keeps_its_zone() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    sent = _parse(compose(BOLETO, PDF, SETTINGS))["Date"].datetime
    assert before <= sent <= datetime.now(UTC)
    brasilia = DATE.astimezone(timezone(timedelta(hours=-3)))
    header = _parse(compose(BOLETO, PDF, SETTINGS, date=brasilia))["Date"]
    assert str(header).endswith("-0300")
    assert header.datetime == DATE


def test_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compose(BOLETO, PDF, SETTINGS, date=datetime(2026, 11, 26, 12, 30))


def test_envelope() -> None:
    composed = compose_mail(BOLETO, PDF, SETTINGS, date=DATE)
    assert composed.envelope.sender == "cobranca@example.com"
    assert composed.envelope.recipient == "lisa@example.com"
    assert composed.envelope.message_id == f"<boleto-{DEBT_ID}@example.com>"
    assert composed.data == compose(BOLETO, PDF, SETTINGS, date=DATE)


def test_message_id_is_the_same_on_a_resend_and_differs_per_debt() -> None:
    first = compose_mail(BOLETO, PDF, SETTINGS, date=DATE).envelope.message_id
    again = compose_mail(BOLETO, PDF, SETTINGS, date=DATE + timedelta(days=1)).envelope.message_id
    other = replace(BOLETO, debt_id="a9ed8b8e-9a1e-458c-8f0d-e795b8d61bab")
    assert first == again
    assert compose_mail(other, PDF, SETTINGS, date=DATE).envelope.message_id != first


@pytest.mark.parametrize(
    ("cents", "subject"),
    [
        (1, "Seu boleto de R$ 0,01 vence em 01/12/2026"),
        (100_000, "Seu boleto de R$ 1.000,00 vence em 01/12/2026"),
        (9_999_999_999, "Seu boleto de R$ 99.999.999,99 vence em 01/12/2026"),
    ],
)
def test_subject_amounts(cents: int, subject: str) -> None:
    assert _compose(replace(BOLETO, amount_cents=cents))["Subject"] == subject


@pytest.mark.parametrize("name", ["São João", "Conceição Araújo", "Inês D'Ávila", "Zoë 山田"])
def test_non_ascii_names_round_trip(name: str) -> None:
    data = compose(replace(BOLETO, payer_name=name), PDF, SETTINGS, date=DATE)
    assert data.isascii()
    message = _parse(data)
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "lisa@example.com")
    assert f"Olá, {name}." in _text(message, "plain")
    assert f"Olá, {name}." in _text(message, "html").replace("&#x27;", "'")


def test_custom_non_ascii_subject_round_trips() -> None:
    custom = replace(SETTINGS, subject_template="Cobrança para $payer_name: $amount até $due_date")
    message = _compose(replace(BOLETO, payer_name="Conceição"), custom)
    assert message["Subject"] == "Cobrança para Conceição: R$ 1.234,56 até 01/12/2026"


def test_html_escapes_every_value() -> None:
    boleto = replace(
        BOLETO,
        payer_name='<script>alert("x")</script> & Cia',
        nosso_numero="<b>1</b>",
        digitable_line="<i>" + LINHA,
    )
    message = _compose(boleto)
    html = _text(message, "html")
    assert "<script>" not in html and "<b>1</b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Cia" in html
    assert "&lt;b&gt;1&lt;/b&gt;" in html
    # The text alternative is not HTML: it shows the name as given.
    assert '<script>alert("x")</script> & Cia' in _text(message, "plain")
    assert message["To"].addresses[0].display_name == '<script>alert("x")</script> & Cia'


@pytest.mark.parametrize(
    "name",
    [
        "Lisa\r\nBcc: evil@example.com",
        "Lisa\nBcc: evil@example.com",
        "Lisa\rBcc: evil@example.com",
        "Lisa\r\n\r\nInjected body",
        "Lisa <evil@example.com>, Other",
        "Lisa\u2028Bcc: evil@example.com",
        "Lisa\x85Bcc: evil@example.com",
    ],
)
def test_names_cannot_inject_headers_or_recipients(name: str) -> None:
    message = _compose(replace(BOLETO, payer_name=name))
    assert "Bcc" not in message and "Cc" not in message
    (to,) = message["To"].addresses
    assert to.addr_spec == "lisa@example.com"
    assert to.display_name == single_line(name)
    assert len(message.get_all("To", [])) == 1
    assert [part.get_content_type() for part in message.walk()][-1] == "application/pdf"


def test_subject_templates_cannot_inject_through_the_name() -> None:
    custom = replace(SETTINGS, subject_template="Boleto de $payer_name")
    message = _compose(replace(BOLETO, payer_name="Lisa\r\nBcc: evil@example.com"), custom)
    assert "Bcc" not in message
    assert message["Subject"] == "Boleto de Lisa Bcc: evil@example.com"


@pytest.mark.parametrize(
    "address",
    [
        "lisa@example.com\r\nBcc: evil@example.com",
        "lisa@example.com\nBcc: evil@example.com",
        "lisa@example.com, evil@example.com",
        "Lisa <lisa@example.com>",
        "lisa@example.com>\r\nBcc: <evil@example.com",
        "",
        "not-an-address",
    ],
)
def test_invalid_recipients_are_refused(address: str) -> None:
    with pytest.raises(InvalidRecipient) as caught:
        compose(replace(BOLETO, email=address), PDF, SETTINGS, date=DATE)
    assert isinstance(caught.value, MailCompositionError)


@pytest.mark.parametrize("pdf", [b"", b"<html>", "%PDF-1.4"])
def test_the_attachment_must_be_pdf_bytes(pdf: object) -> None:
    with pytest.raises(InvalidAttachment):
        compose(BOLETO, pdf, SETTINGS, date=DATE)  # type: ignore[arg-type]


_ATTACHMENT_NAME = re.compile(rb'filename="boleto-[0-9a-f-]{36}\.pdf"')


def _display_name(data: bytes) -> str:
    """The To display name as RFC 2047 readers decode it.

    The modern parser turns the whitespace between two encoded words of a display name into
    a space (its own generator's output reads back the same way), so a long name folded
    across encoded words is decoded with the legacy decoder, which follows RFC 2047 6.2.
    """
    raw = email.message_from_bytes(data)["To"]
    raw = raw.replace("\r\n", "").replace("\n", "")
    if raw.startswith("=?"):
        return str(make_header(decode_header(raw.rpartition(" <")[0])))
    return _parse(data)["To"].addresses[0].display_name


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=300), digitable_line=st.text(max_size=80))
def test_any_name_yields_one_well_formed_message(name: str, digitable_line: str) -> None:
    boleto = replace(BOLETO, payer_name=name, digitable_line=digitable_line)
    custom = replace(SETTINGS, subject_template="$payer_name: $amount")
    data = compose(boleto, PDF, custom, date=DATE)
    assert b"\n" not in data.replace(b"\r\n", b"") and data.isascii()
    message = _parse(data)
    assert list(message.keys())[:2] == ["From", "To"]
    assert len(message.keys()) == 9
    (to,) = message["To"].addresses
    assert to.addr_spec == "lisa@example.com"
    assert _display_name(data) == single_line(name)
    assert message["Subject"] == f"{single_line(name)}: R$ 1.234,56".strip()
    (attachment,) = message.iter_attachments()
    assert attachment.get_content() == PDF
    assert _ATTACHMENT_NAME.search(data)
