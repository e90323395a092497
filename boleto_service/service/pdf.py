"""The printed boleto of an issued one."""

from __future__ import annotations

from prometheus_client import Counter

from boleto_service.documents.model import BoletoDocument
from boleto_service.documents.render import render_pdf
from boleto_service.domain.beneficiaries import Beneficiaries
from boleto_service.domain.boleto import Boleto

RENDERED = Counter("boletos_pdfs_rendered_total", "Boleto PDFs rendered.")


def render_boleto(beneficiaries: Beneficiaries, boleto: Boleto) -> bytes:
    """The PDF with the beneficiary the boleto was issued for, as configured now."""
    config = beneficiaries.get(boleto.beneficiary).config
    pdf = render_pdf(BoletoDocument.of(boleto, config))
    RENDERED.inc()
    return pdf
