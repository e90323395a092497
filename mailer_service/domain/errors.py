"""Why a boleto e-mail cannot be composed; the type tells a permanent failure from a bug."""

from __future__ import annotations


class MailCompositionError(ValueError):
    """Base of every refusal to compose one message: retrying the same input cannot succeed."""


class InvalidRecipient(MailCompositionError):
    """The payer's e-mail is not exactly one valid address, or could alter the headers."""


class InvalidBoletoMail(MailCompositionError):
    """A boleto field cannot go into a message (debt id, amount or due date)."""


class InvalidAttachment(MailCompositionError):
    """The attachment handed over is not a PDF."""


class InvalidMailSettings(ValueError):
    """The mailer's configuration is unusable; raised once, when the settings are built."""


class PdfUnavailable(Exception):
    """The boleto's PDF cannot be had right now (not issued yet, or the boleto service is
    unreachable): the e-mail waits for it; nothing was sent."""
