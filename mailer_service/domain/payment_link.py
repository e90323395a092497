"""The debtor's payment link in each e-mail: where the boleto can be seen and paid again,
with today's amount, without the attachment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from boletos.platform.payment_links import LinkKeys


@dataclass(frozen=True)
class PaymentLinks:
    # The gateway's public address, e.g. https://pagamentos.example.com (no trailing slash).
    base_url: str
    keys: LinkKeys
    # A link works until this many days after the boleto's due date.
    days_after_due: int = 180

    def url(self, debt_id: str, due_date: dt.date) -> str:
        last_day = due_date + dt.timedelta(days=self.days_after_due)
        return f"{self.base_url}/p/{self.keys.sign(debt_id, last_day)}"
