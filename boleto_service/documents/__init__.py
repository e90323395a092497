"""Boleto documents: what is printed on a boleto, and its rendering to PDF."""

from .model import (
    MAX_INSTRUCTION_LINES,
    BoletoDocument,
    PayerIdKind,
    bank_code_with_dv,
    format_date,
    overdue_instructions,
    payer_id_text,
)
from .render import BoletoRenderer, render_pdf

__all__ = [
    "MAX_INSTRUCTION_LINES",
    "BoletoDocument",
    "BoletoRenderer",
    "PayerIdKind",
    "bank_code_with_dv",
    "format_date",
    "overdue_instructions",
    "payer_id_text",
    "render_pdf",
]
