"""What the bank reported of a boleto, as the boleto service's events tell the mailer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .delivery import Settlement
from .errors import InvalidBoletoMail
from .event_fields import check_day, event_day
from .message_id import check_debt_id

if TYPE_CHECKING:
    from boletos.v1.events_pb2 import BoletoStatusChange, PaidBoleto


@dataclass(frozen=True, slots=True)
class BankReport:
    """One boleto paid (with what and when), written off, or refused by the bank."""

    debt_id: str
    upload_id: str
    outcome: Settlement
    paid_cents: int | None = None
    fee_cents: int | None = None
    paid_on: dt.date | None = None

    def __post_init__(self) -> None:
        check_debt_id(self.debt_id)
        if self.outcome == Settlement.PAID:
            for name in ("paid_cents", "fee_cents"):
                cents = getattr(self, name)
                if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
                    raise InvalidBoletoMail(f"{name} must be int centavos >= 0, got {cents!r}")
            check_day(self.paid_on, "paid_on")

    @classmethod
    def paid(cls, event: PaidBoleto) -> BankReport:
        paid_on = event_day(event.paid_on, "paid_on")
        return cls(
            debt_id=event.debt_id,
            upload_id=event.upload_id,
            outcome=Settlement.PAID,
            paid_cents=event.paid_cents,
            fee_cents=event.fee_cents,
            paid_on=paid_on,
        )

    @classmethod
    def status_change(cls, event: BoletoStatusChange, outcome: Settlement) -> BankReport:
        return cls(debt_id=event.debt_id, upload_id=event.upload_id, outcome=outcome)
