"""A new due date the bank confirmed for a boleto, as the boleto service announces it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InvalidBoletoMail
from .event_fields import check_amount_cents, check_day, event_day
from .message_id import check_debt_id

if TYPE_CHECKING:
    from boletos.v1.events_pb2 import RedatedBoleto

# The boleto service names its instructions with UUIDs; anything printable and short is kept.
_INSTRUCTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class Redate:
    """One boleto's new due date and the numbers that came with it."""

    debt_id: str
    upload_id: str
    instruction_id: str
    due_date: dt.date
    digitable_line: str
    amount_cents: int
    pix_payload: str
    # When the bank's answer was recorded: of two new dates for one boleto the later stands.
    answered_at: dt.datetime

    def __post_init__(self) -> None:
        check_debt_id(self.debt_id)
        if not isinstance(self.instruction_id, str) or not _INSTRUCTION_ID.fullmatch(
            self.instruction_id
        ):
            raise InvalidBoletoMail(f"instruction id {self.instruction_id!r} is not usable")
        check_amount_cents(self.amount_cents)
        check_day(self.due_date, "due date")
        if not self.digitable_line.strip():
            raise InvalidBoletoMail(f"boleto of debt {self.debt_id} has no linha digitável")
        at = self.answered_at
        if not isinstance(at, dt.datetime) or at.tzinfo is None:
            raise InvalidBoletoMail(f"answered_at must be a timezone-aware time, got {at!r}")

    @classmethod
    def from_event(cls, event: RedatedBoleto) -> Redate:
        due_date = event_day(event.due_date, "due date")
        return cls(
            debt_id=event.debt_id,
            upload_id=event.upload_id,
            instruction_id=event.instruction_id,
            due_date=due_date,
            digitable_line=event.digitable_line,
            amount_cents=event.amount_cents,
            pix_payload=event.pix_payload,
            answered_at=event.answered_at.ToDatetime(tzinfo=dt.UTC),
        )
