"""Boletos built for printing tests: the numbers and the payer matter, the rest is filler."""

from __future__ import annotations

import datetime as dt

from boleto_service.domain.boleto import Boleto, Payer
from boleto_service.domain.issuing import IssuedBoleto

DEBT_ID = "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10"


def printable(
    numbers: IssuedBoleto,
    payer: Payer,
    issue_date: dt.date,
    debt_id: str = DEBT_ID,
    sequence: int = 1,
) -> Boleto:
    return Boleto(
        debt_id=debt_id,
        upload_id="",
        line=2,
        sequence=sequence,
        issue_date=issue_date,
        payer=payer,
        numbers=numbers,
    )
