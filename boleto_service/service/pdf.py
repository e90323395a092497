"""The printed boleto of an issued one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from prometheus_client import Counter

from boleto_service.documents.model import BoletoDocument
from boleto_service.documents.render import render_pdf
from boleto_service.domain.beneficiaries import Beneficiaries
from boleto_service.domain.boleto import Boleto
from boleto_service.domain.pix import pix_payload
from boletos.platform import brasilia

RENDERED = Counter("boletos_pdfs_rendered_total", "Boleto PDFs rendered.")


def render_boleto(
    beneficiaries: Beneficiaries, boleto: Boleto, today: dt.date | None = None
) -> bytes:
    """The PDF with the beneficiary the boleto was issued for, as configured now."""
    beneficiary = beneficiaries.get(boleto.beneficiary)
    discount = boleto.offered_discount
    pix = beneficiary.pix
    if discount is not None and pix is not None and boleto.numbers.pix_payload:
        if (today or brasilia.today()) > discount.until:
            # Its Pix code was made for the discounted amount; past the discount's date the
            # page carries one for the whole amount, as the barcode does.
            numbers = boleto.numbers
            full = pix_payload(pix, numbers.amount_cents, numbers.nosso_numero)
            boleto = replace(boleto, numbers=replace(numbers, pix_payload=full))
    pdf = render_pdf(BoletoDocument.of(boleto, beneficiary.config))
    RENDERED.inc()
    return pdf
