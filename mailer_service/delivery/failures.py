"""Sorts the SMTP client's errors into TemporaryFailure and PermanentFailure."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import aiosmtplib

from mailer_service.domain.failures import (
    STAGE_TEXT,
    DeliveryFailure,
    Stage,
    TemporaryFailure,
    failure_for_reply,
    one_line,
)


def classify(
    exc: BaseException,
    stage: Stage,
    *,
    subject: str = "",
    secret: str | None = None,
    personal: Sequence[str] = (),
) -> DeliveryFailure | None:
    """The failure an aiosmtplib or socket error stands for, or None if it is neither.

    None means a bug rather than a delivery problem; the caller should let it propagate.
    """
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        stage = "auth"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        # One recipient per message here, so the first refusal is the refusal.
        first = exc.recipients[0]
        return failure_for_reply(
            first.code, first.message, "rcpt", subject=subject, secret=secret, personal=personal
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return failure_for_reply(
            exc.code, exc.message, stage, subject=subject, secret=secret, personal=personal
        )

    where = STAGE_TEXT[stage] + (f" {subject}" if subject else "")
    if isinstance(exc, TimeoutError):
        # Includes aiosmtplib's SMTPTimeoutError; checked before OSError, its other base.
        what = "timed out"
    elif isinstance(exc, ssl.SSLError):
        what = "TLS error"
    elif isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError)):
        what = "connection failed"
    elif isinstance(exc, OSError):
        what = "network error"
    elif isinstance(exc, aiosmtplib.SMTPException):
        # Capability mismatches (no STARTTLS, no AUTH offered): a configuration problem that
        # will go away once the server or the settings are fixed, not a fault of the message.
        what = "not possible"
    else:
        return None
    detail = str(exc) or type(exc).__name__
    reason = one_line(f"{where}: {what}: {detail}", secret, personal)
    return TemporaryFailure(0, reason, stage=stage)
