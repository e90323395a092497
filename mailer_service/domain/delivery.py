"""One debt's e-mails as the mailer keeps them: a delivery per kind, its status and attempts."""

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


class DeliveryKind(IntEnum):
    """Mirrors boletos.v1.DeliveryKind; the store keeps these numbers. A debt has at most one
    delivery of each kind at a time: the updated boleto's e-mail is queued again for each new
    due date the bank confirms, each with a Message-ID of its own."""

    BOLETO = 1
    REMINDER = 2
    OVERDUE_NOTICE = 3
    RECEIPT = 4
    # The boleto again, with its new due date and numbers, after the bank confirmed the date.
    UPDATED = 5

    @property
    def label(self) -> str:
        """The kind's name in metrics and logs."""
        return self.name.lower()


class Settlement(IntEnum):
    """What the bank last reported of a boleto that ends its notices; the store keeps these
    numbers. A payment outranks the others: a boleto written off and then paid is paid."""

    PAID = 1
    WRITTEN_OFF = 2
    # The bank refused to register it: it cannot be paid, so chasing it would only confuse.
    REJECTED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


# A delivery is named by its debt and its kind.
DeliveryKey = tuple[str, DeliveryKind]


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment as the bank reported it, for the receipt."""

    paid_cents: int
    paid_on: dt.date


@dataclass(frozen=True, slots=True)
class Queued:
    """A delivery claimed for sending."""

    mail: BoletoMail
    # Attempts so far, this one included; they go on counting across RetryFailed.
    attempts: int
    # Attempts made before the last RetryFailed: the retry budget counts from there.
    attempts_before_retry: int = 0
    kind: DeliveryKind = DeliveryKind.BOLETO
    # Only for a receipt: the payment it acknowledges.
    payment: Payment | None = None
    # What the bank had reported of the boleto when the delivery was claimed: a reminder or
    # overdue notice of a settled boleto is dropped unsent.
    settled_as: Settlement | None = None
    # Only for the updated boleto: the instruction whose new due date it announces, which
    # its Message-ID names with the date.
    instruction_id: str = ""
    # The trace context the boleto e-mail was queued in (as the outbox stores it), which its
    # sending continues; None for a notice, or a row queued outside any trace.
    trace_context: str | None = None

    @property
    def attempts_this_round(self) -> int:
        return self.attempts - self.attempts_before_retry

    @property
    def key(self) -> DeliveryKey:
        return (self.mail.debt_id, self.kind)


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
    kind: DeliveryKind = DeliveryKind.BOLETO
    # Not sent, and never to be: the boleto was settled before its notice went out. The
    # delivery is deleted, so no status stands for it.
    dropped: bool = False

    @property
    def key(self) -> DeliveryKey:
        return (self.debt_id, self.kind)


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
    kind: DeliveryKind = DeliveryKind.BOLETO
