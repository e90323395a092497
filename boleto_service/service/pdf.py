"""The printed boleto for a stored record."""

from __future__ import annotations

from prometheus_client import Counter

from boleto_service.documents.model import BoletoDocument, overdue_instructions, payer_id_text
from boleto_service.documents.render import render_pdf
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.service.issuing import BoletoRecord

RENDERED = Counter("boletos_pdfs_rendered_total", "Boleto PDFs rendered.")


def document_for(config: BeneficiaryConfig, r: BoletoRecord) -> BoletoDocument:
    instructions: tuple[str, ...] = ()
    if r.due_date != r.original_due_date:
        # Re-dated because it was overdue: the payer sees why the amount grew.
        instructions = overdue_instructions(
            r.original_due_date,
            r.due_date,
            (r.due_date - r.original_due_date).days,
            r.principal_cents,
            r.fine_cents,
            r.interest_cents,
        )
    return BoletoDocument(
        bank_code=r.bank_code,
        bank_name=config.bank.name,
        beneficiary_name=config.name,
        beneficiary_cnpj=config.cnpj_formatted,
        agencia_codigo=config.agencia_conta,
        payer_name=r.payer_name,
        payer_id=payer_id_text(r.payer_government_id, r.government_id_kind),
        nosso_numero=r.nosso_numero,
        numero_documento=r.debt_id,
        carteira=config.carteira,
        issue_date=r.issue_date,
        due_date=r.due_date,
        original_due_date=r.original_due_date,
        principal_cents=r.principal_cents,
        fine_cents=r.fine_cents,
        interest_cents=r.interest_cents,
        total_cents=r.amount_cents,
        linha_digitavel=r.digitable_line,
        barcode=r.barcode,
        instructions=instructions,
    )


def render_record(config: BeneficiaryConfig, record: BoletoRecord) -> bytes:
    pdf = render_pdf(document_for(config, record))
    RENDERED.inc()
    return pdf
