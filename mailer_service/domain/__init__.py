"""Pure e-mail composition for boletos: pt-BR wording, safe headers, the PDF attached."""

from .addresses import Mailbox, parse_recipient
from .boleto_mail import BoletoMail
from .compose import ComposedMail, MailEnvelope, attachment_name, compose, compose_mail
from .errors import (
    InvalidAttachment,
    InvalidBoletoMail,
    InvalidMailSettings,
    InvalidRecipient,
    MailCompositionError,
)
from .formatting import format_brl, format_date_br
from .message_id import message_id
from .settings import MailSettings

__all__ = [
    "BoletoMail",
    "ComposedMail",
    "InvalidAttachment",
    "InvalidBoletoMail",
    "InvalidMailSettings",
    "InvalidRecipient",
    "MailCompositionError",
    "MailEnvelope",
    "MailSettings",
    "Mailbox",
    "attachment_name",
    "compose",
    "compose_mail",
    "format_brl",
    "format_date_br",
    "message_id",
    "parse_recipient",
]
