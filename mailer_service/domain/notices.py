"""The e-mails that follow a boleto: a reminder before its due date, an overdue notice after
it, a receipt once it is paid, and the updated boleto once the bank gave it a new due date.
Pure and deterministic for a given date, like compose.py.

The reminder, the overdue notice and the updated boleto carry the boleto again, with its
linha digitável and its Pix copia e cola; the receipt carries neither, nor the PDF: a payable
boleto attached to a receipt would invite paying twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from .addresses import parse_recipient
from .compose import DEBT_ID_HEADER, ComposedMail, MailEnvelope, attachment_name, compose_mail
from .delivery import DeliveryKind, Queued
from .errors import InvalidAttachment, InvalidBoletoMail
from .formatting import format_brl, format_date_br
from .headers import date_header, format_mailbox, format_unstructured, single_line
from .message_id import message_id
from .mime import render_message
from .settings import MailSettings

KIND_HEADER = "X-Boleto-Mail-Kind"

# Each kind's Message-ID prefix: one id per debt and kind, none equal to the boleto e-mail's.
MESSAGE_ID_PREFIX = {
    DeliveryKind.BOLETO: "boleto",
    DeliveryKind.REMINDER: "reminder",
    DeliveryKind.OVERDUE_NOTICE: "overdue",
    DeliveryKind.RECEIPT: "receipt",
    DeliveryKind.UPDATED: "updated",
}

# A paragraph of text, or a code to copy (linha digitável, Pix), shown in a monospace font.
Block = tuple[str, str]
PARAGRAPH, CODE, LINK = "p", "code", "a"


def needs_pdf(kind: DeliveryKind) -> bool:
    return kind != DeliveryKind.RECEIPT


def kind_message_id(
    debt_id: str,
    domain: str,
    kind: DeliveryKind,
    due_date: dt.date | None = None,
    instruction_id: str = "",
) -> str:
    """One id per debt and kind. The updated boleto's also names the new due date and (by a
    digest) the instruction that set it: a debt gets one of those per date the bank confirms,
    and a date asked for again later is another e-mail."""
    tag = ""
    if kind == DeliveryKind.UPDATED and due_date is not None and instruction_id:
        digest = hashlib.sha256(instruction_id.encode()).hexdigest()[:8]
        tag = f"{due_date:%Y%m%d}-{digest}"
    return message_id(debt_id, domain, MESSAGE_ID_PREFIX[kind], tag)


def compose_delivery(
    item: Queued, pdf: bytes | None, settings: MailSettings, *, date: datetime | None = None
) -> ComposedMail:
    """The message of a claimed delivery of any kind; the boleto e-mail as compose_mail
    writes it. Raises what compose_mail raises, and InvalidBoletoMail for a receipt without
    its payment."""
    if item.kind == DeliveryKind.BOLETO:
        return compose_mail(item.mail, pdf or b"", settings, date=date)
    return compose_notice(item, pdf, settings, date=date)


def compose_notice(
    item: Queued, pdf: bytes | None, settings: MailSettings, *, date: datetime | None = None
) -> ComposedMail:
    boleto = item.mail
    kind = item.kind
    if kind == DeliveryKind.BOLETO:
        raise ValueError("the boleto e-mail is composed by compose_mail")
    recipient = parse_recipient(boleto.email)
    if needs_pdf(kind):
        if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF-"):
            raise InvalidAttachment(f"attachment for debt {boleto.debt_id} is not a PDF")
    else:
        pdf = None
    if date is None:
        date = datetime.now(UTC)
    elif date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")

    prepared = settings.prepared
    sender = prepared.sender
    name = single_line(boleto.payer_name)
    amount = format_brl(boleto.amount_cents)
    due = format_date_br(boleto.due_date)
    if kind == DeliveryKind.REMINDER:
        subject = f"Lembrete: seu boleto de {amount} vence em {due}"
        blocks = [
            (PARAGRAPH, f"Olá, {name}."),
            (
                PARAGRAPH,
                f"Lembramos que o seu boleto no valor de {amount} vence em {due}. "
                "Ele segue novamente em anexo.",
            ),
            *_how_to_pay(item, settings),
            (PARAGRAPH, "Se o pagamento já foi feito, por favor desconsidere esta mensagem."),
        ]
    elif kind == DeliveryKind.UPDATED:
        subject = f"Boleto atualizado: novo vencimento {due}"
        blocks = [
            (PARAGRAPH, f"Olá, {name}."),
            (
                PARAGRAPH,
                f"O vencimento do seu boleto no valor de {amount} foi alterado para {due}. "
                "Segue em anexo o boleto atualizado, com o novo código de barras: ele "
                "substitui o anterior, que não deve mais ser usado.",
            ),
            *_how_to_pay(item, settings),
            (PARAGRAPH, "Se o pagamento já foi feito, por favor desconsidere esta mensagem."),
        ]
    elif kind == DeliveryKind.OVERDUE_NOTICE:
        subject = f"Boleto vencido em {due}: {amount} em aberto"
        blocks = [
            (PARAGRAPH, f"Olá, {name}."),
            (
                PARAGRAPH,
                f"Ainda não identificamos o pagamento do seu boleto no valor de {amount}, "
                f"vencido em {due}. Ele segue novamente em anexo; pago após o vencimento, "
                "pode ter multa e juros, conforme as instruções do boleto.",
            ),
            *_how_to_pay(item, settings),
            (
                PARAGRAPH,
                "Se o pagamento já foi feito, por favor desconsidere esta mensagem: "
                "o banco pode levar alguns dias úteis para informá-lo.",
            ),
        ]
    else:
        payment = item.payment
        if payment is None:
            raise InvalidBoletoMail(f"receipt for debt {boleto.debt_id} has no payment")
        paid = format_brl(payment.paid_cents)
        subject = f"Recebemos o pagamento do seu boleto de {amount}"
        blocks = [
            (PARAGRAPH, f"Olá, {name}."),
            (
                PARAGRAPH,
                f"Recebemos o pagamento de {paid} em {format_date_br(payment.paid_on)}, "
                f"referente ao boleto no valor de {amount} com vencimento em {due}.",
            ),
            (PARAGRAPH, f"Nosso número: {single_line(boleto.nosso_numero)}"),
            (PARAGRAPH, "Obrigado!"),
        ]
    blocks.append((PARAGRAPH, f"Atenciosamente,\n{prepared.sender_name}"))

    msg_id = kind_message_id(
        boleto.debt_id, sender.domain, kind, boleto.due_date, item.instruction_id
    )
    headers = [
        ("From", prepared.from_header),
        ("To", format_mailbox("To", name, recipient)),
    ]
    if prepared.reply_to_header is not None:
        headers.append(("Reply-To", prepared.reply_to_header))
    headers += [
        ("Subject", format_unstructured("Subject", subject)),
        ("Date", date_header(date)),
        ("Message-ID", msg_id),
        (DEBT_ID_HEADER, boleto.debt_id),
        (KIND_HEADER, kind.label),
    ]
    data = render_message(
        headers,
        render_text(blocks),
        render_html(subject, blocks),
        attachment_name(boleto.debt_id) if pdf is not None else None,
        pdf,
    )
    return ComposedMail(MailEnvelope(sender.addr_spec, recipient, msg_id), data)


def _how_to_pay(item: Queued, settings: MailSettings) -> list[Block]:
    boleto = item.mail
    blocks: list[Block] = [
        (PARAGRAPH, "Para pagar pelo aplicativo ou site do seu banco, use a linha digitável:"),
        (CODE, single_line(boleto.digitable_line)),
        (PARAGRAPH, f"Nosso número: {single_line(boleto.nosso_numero)}"),
    ]
    if boleto.pix_payload:
        blocks += [
            (
                PARAGRAPH,
                "Prefere Pix? Leia o QR code do boleto, ou copie o código abaixo "
                "(Pix copia e cola) no aplicativo do seu banco:",
            ),
            # A BR Code is printable ASCII; one line, whatever a broken event might hold.
            (CODE, single_line(boleto.pix_payload)),
        ]
    if settings.links is not None:
        blocks += [
            (
                PARAGRAPH,
                "Veja o boleto, o valor atualizado e o código Pix a qualquer momento em:",
            ),
            (LINK, settings.links.url(boleto.debt_id, boleto.due_date)),
        ]
    return blocks


def render_text(blocks: Sequence[Block]) -> str:
    return "\n\n".join(text for _kind, text in blocks) + "\n"


def render_html(title: str, blocks: Sequence[Block]) -> str:
    body = []
    for kind, text in blocks:
        html = escape(text).replace("\n", "<br>\n")
        if kind == LINK:
            body.append(f'<p><a href="{html}">{html}</a></p>')
        elif kind == CODE:
            body.append(
                "<p style=\"font-family: 'Courier New', monospace; font-size: 14px; "
                f'word-break: break-all;">{html}</p>'
            )
        else:
            body.append(f"<p>{html}</p>")
    return (
        '<!DOCTYPE html>\n<html lang="pt-BR">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n</head>\n"
        '<body style="font-family: Arial, Helvetica, sans-serif; color: #222;">\n'
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
