"""The Pix code a boleto carries on a given day. It was made at issue for the amount due then,
less an early-payment discount; a Pix code has no date rule, so past the discount's date it is
made again for the whole amount, as the barcode charges. The printed PDF and the debtor's page
both show this one. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from .boleto import Boleto
from .pix import PixMerchant, pix_payload


def with_pix_for(boleto: Boleto, merchant: PixMerchant | None, day: dt.date) -> Boleto:
    discount = boleto.offered_discount
    if discount is None or merchant is None or not boleto.numbers.pix_payload:
        return boleto
    if day <= discount.until:
        return boleto
    numbers = boleto.numbers
    full = pix_payload(merchant, numbers.amount_cents, numbers.nosso_numero)
    return replace(boleto, numbers=replace(numbers, pix_payload=full))
