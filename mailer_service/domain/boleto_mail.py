"""What the mailer knows about one boleto: the IssuedBoleto event's fields, typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from boletos.platform.ids import is_canonical_uuid

from .errors import InvalidBoletoMail
from .event_fields import check_amount_cents, check_day, event_day
from .message_id import check_debt_id

if TYPE_CHECKING:
    from boletos.v1.events_pb2 import IssuedBoleto


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
        check_amount_cents(self.amount_cents)
        check_day(self.due_date, "due date")

    @classmethod
    def from_event(cls, event: IssuedBoleto) -> BoletoMail:
        # The boleto service sends its uploads' ids as ingest made them.
        if not is_canonical_uuid(event.upload_id):
            raise InvalidBoletoMail("upload id is not a UUID")
        due_date = event_day(event.due_date, "due date")
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
