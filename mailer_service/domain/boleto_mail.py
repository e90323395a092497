"""What the mailer knows about one boleto: the IssuedBoleto event's fields, typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from .errors import InvalidBoletoMail
from .message_id import check_debt_id

if TYPE_CHECKING:
    from boletos.v1.events_pb2 import IssuedBoleto

_UPLOAD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The barcode's amount field has ten digits of centavos.
MAX_AMOUNT_CENTS = 9_999_999_999


@dataclass(frozen=True, slots=True)
class BoletoMail:
    """One boleto to e-mail. The e-mail itself is checked when the message is composed."""

    debt_id: str
    upload_id: str
    payer_name: str
    email: str
    amount_cents: int
    due_date: date
    digitable_line: str
    nosso_numero: str
    # The debt's line in its upload's file.
    line: int = 0
    # "Pix copia e cola" for the same amount; empty when the boleto has no Pix QR code.
    pix_payload: str = ""

    def __post_init__(self) -> None:
        check_debt_id(self.debt_id)
        cents = self.amount_cents
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise InvalidBoletoMail(f"amount must be int centavos, got {cents!r}")
        if not 0 <= cents <= MAX_AMOUNT_CENTS:
            raise InvalidBoletoMail(f"amount of {cents} centavos is out of range")
        # A datetime is a date too, but would print its time in the message.
        if not isinstance(self.due_date, date) or isinstance(self.due_date, datetime):
            raise InvalidBoletoMail(f"due date must be a date, got {self.due_date!r}")

    @classmethod
    def from_event(cls, event: IssuedBoleto) -> BoletoMail:
        # The boleto service sends its uploads' ids as ingest made them.
        if not _UPLOAD_ID.fullmatch(event.upload_id):
            raise InvalidBoletoMail("upload id is not a UUID")
        try:
            due_date = date.fromisoformat(event.due_date)
        except ValueError:
            raise InvalidBoletoMail(f"due date {event.due_date!r} is not ISO 8601") from None
        return cls(
            debt_id=event.debt_id,
            upload_id=event.upload_id,
            payer_name=event.payer_name,
            email=event.email,
            amount_cents=event.amount_cents,
            due_date=due_date,
            digitable_line=event.digitable_line,
            nosso_numero=event.nosso_numero,
            line=event.line,
            pix_payload=event.pix_payload,
        )
