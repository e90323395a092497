"""The printed boleto of an issued one."""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter

from boleto_service.documents.model import BoletoDocument
from boleto_service.documents.render import render_pdf
from boleto_service.domain.beneficiaries import Beneficiaries
from boleto_service.domain.boleto import Boleto
from boleto_service.domain.pix_today import with_pix_for
from boletos.platform import brasilia

RENDERED = Counter("boletos_pdfs_rendered_total", "Boleto PDFs rendered.")


def render_boleto(
    beneficiaries: Beneficiaries, boleto: Boleto, today: dt.date | None = None
) -> bytes:
    """The PDF with the beneficiary the boleto was issued for, as configured now."""
    beneficiary = beneficiaries.get(boleto.beneficiary)
    boleto = with_pix_for(boleto, beneficiary.pix, today or brasilia.today())
    pdf = render_pdf(BoletoDocument.of(boleto, beneficiary.config))
    RENDERED.inc()
    return pdf
