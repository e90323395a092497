"""The printed boleto of an issued one."""

from __future__ import annotations

from prometheus_client import Counter

from boleto_service.documents.model import BoletoDocument
from boleto_service.documents.render import render_pdf
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.boleto import Boleto

RENDERED = Counter("boletos_pdfs_rendered_total", "Boleto PDFs rendered.")


def render_boleto(config: BeneficiaryConfig, boleto: Boleto) -> bytes:
    pdf = render_pdf(BoletoDocument.of(boleto, config))
    RENDERED.inc()
    return pdf
