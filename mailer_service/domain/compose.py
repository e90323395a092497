"""Composes a boleto e-mail: pure, deterministic for a given date, ready for SMTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from .addresses import parse_recipient
from .boleto_mail import BoletoMail
from .errors import InvalidAttachment
from .formatting import format_brl, format_date_br
from .headers import date_header, format_mailbox, format_unstructured, single_line
from .message_id import message_id
from .mime import render_message
from .settings import MailSettings
from .templates import LINK_HTML, LINK_TEXT, PIX_HTML, PIX_TEXT

DEBT_ID_HEADER = "X-Boleto-Debt-Id"


@dataclass(frozen=True, slots=True)
class MailEnvelope:
    """SMTP's MAIL FROM and RCPT TO, and the Message-ID to report once the send succeeds."""

    sender: str
    recipient: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ComposedMail:
    """The message's bytes and the envelope to send them under."""

    envelope: MailEnvelope
    data: bytes


def attachment_name(debt_id: str) -> str:
    return f"boleto-{debt_id}.pdf"


def compose_mail(
    boleto: BoletoMail, pdf: bytes, settings: MailSettings, *, date: datetime | None = None
) -> ComposedMail:
    """The message and its envelope.

    Raises InvalidRecipient for an unusable e-mail and InvalidAttachment when `pdf` is not a
    PDF; `date` (timezone-aware, default now) is the Date header.
    """
    recipient = parse_recipient(boleto.email)
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF-"):
        raise InvalidAttachment(f"attachment for debt {boleto.debt_id} is not a PDF")
    if date is None:
        date = datetime.now(UTC)
    elif date.tzinfo is None or date.utcoffset() is None:
        # A naive time would go out as "-0000", i.e. an unknown zone.
        raise ValueError("date must be timezone-aware")

    prepared = settings.prepared
    sender = prepared.sender
    fields = {
        "payer_name": single_line(boleto.payer_name),
        "amount": format_brl(boleto.amount_cents),
        "due_date": format_date_br(boleto.due_date),
        "digitable_line": single_line(boleto.digitable_line),
        "nosso_numero": single_line(boleto.nosso_numero),
        "debt_id": boleto.debt_id,
        "sender_name": prepared.sender_name,
        "pix_section": "",
        "payment_link": "",
        "link_section": "",
    }
    if settings.links is not None:
        fields["payment_link"] = settings.links.url(boleto.debt_id, boleto.due_date)
    html_fields = {key: escape(value) for key, value in fields.items()}
    if fields["payment_link"]:
        fields["link_section"] = LINK_TEXT.format(url=fields["payment_link"])
        html_fields["link_section"] = LINK_HTML.format(url=escape(fields["payment_link"]))
    if boleto.pix_payload:
        # A BR Code is printable ASCII; one line, whatever a broken event might hold.
        payload = single_line(boleto.pix_payload)
        fields["pix_section"] = PIX_TEXT.format(payload=payload)
        html_fields["pix_section"] = PIX_HTML.format(payload=escape(payload))
    msg_id = message_id(boleto.debt_id, sender.domain)

    headers = [
        ("From", prepared.from_header),
        ("To", format_mailbox("To", fields["payer_name"], recipient)),
    ]
    if prepared.reply_to_header is not None:
        headers.append(("Reply-To", prepared.reply_to_header))
    headers += [
        ("Subject", format_unstructured("Subject", prepared.subject.substitute(fields))),
        ("Date", date_header(date)),
        ("Message-ID", msg_id),
        (DEBT_ID_HEADER, boleto.debt_id),
    ]
    data = render_message(
        headers,
        prepared.text.substitute(fields),
        prepared.html.substitute(html_fields),
        attachment_name(boleto.debt_id),
        pdf,
    )
    return ComposedMail(MailEnvelope(sender.addr_spec, recipient, msg_id), data)


def compose(
    boleto: BoletoMail, pdf: bytes, settings: MailSettings, *, date: datetime | None = None
) -> bytes:
    """The RFC 5322 message, CRLF line endings, ready for SMTP DATA."""
    return compose_mail(boleto, pdf, settings, date=date).data
