"""One debt's e-mail as the mailer keeps it: a delivery, its status and its attempts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from .boleto_mail import BoletoMail


class DeliveryStatus(IntEnum):
    """Mirrors boletos.v1.DeliveryStatus; the store keeps these numbers."""

    PENDING = 1
    SENDING = 2
    SENT = 3
    FAILED = 4
    # The whole message went out and its acceptance was never heard (RFC 5321 4.5.3.2):
    # it may or may not have been delivered, so it is not sent again without a person.
    UNCERTAIN = 5


@dataclass(frozen=True, slots=True)
class Queued:
    """A delivery claimed for sending."""

    mail: BoletoMail
    # Attempts so far, this one included; they go on counting across RetryFailed.
    attempts: int
    # Attempts made before the last RetryFailed: the retry budget counts from there.
    attempts_before_retry: int = 0

    @property
    def attempts_this_round(self) -> int:
        return self.attempts - self.attempts_before_retry


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one attempt."""

    debt_id: str
    upload_id: str
    status: DeliveryStatus  # SENT, FAILED, UNCERTAIN, or PENDING for a retry
    message_id: str = ""
    error: str = ""
    smtp_code: int = 0
    retry_at: dt.datetime | None = None
    # The attempt never reached the SMTP server (no PDF yet, say): it is not counted.
    refund_attempt: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    debt_id: str
    upload_id: str
    email: str
    status: DeliveryStatus
    attempts: int
    last_error: str
    smtp_code: int
    message_id: str
    updated_at: dt.datetime
    # The debt's line in its upload's file.
    line: int
