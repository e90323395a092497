"""Pure boleto domain: check digits, due-date factor, barcode, linha digitável, banks, charges."""

from .barcode import BarcodeFields, build_barcode, parse_barcode, validate_barcode
from .beneficiary import BeneficiaryConfig
from .charges import ChargeBreakdown, OverduePolicy, apply_overdue_policy
from .due_factor import date_for_factor, due_factor, ensure_payable, payable_window
from .errors import (
    BoletoDomainError,
    CheckDigitMismatch,
    DueDateOutsidePayableWindow,
    InvalidAmount,
    InvalidBeneficiaryConfig,
    InvalidCheckDigit,
    InvalidDueDate,
    InvalidOverduePolicy,
    MalformedCode,
    NossoNumeroOutOfRange,
    UnknownBank,
)
from .issuing import BoletoIssuer, IssuedBoleto, issue_boleto
from .linha_digitavel import barcode_to_linha, format_linha, linha_to_barcode, validate_linha
from .money import to_cents

__all__ = [
    "BarcodeFields",
    "BeneficiaryConfig",
    "BoletoDomainError",
    "BoletoIssuer",
    "ChargeBreakdown",
    "CheckDigitMismatch",
    "DueDateOutsidePayableWindow",
    "InvalidAmount",
    "InvalidBeneficiaryConfig",
    "InvalidCheckDigit",
    "InvalidDueDate",
    "InvalidOverduePolicy",
    "IssuedBoleto",
    "MalformedCode",
    "NossoNumeroOutOfRange",
    "OverduePolicy",
    "UnknownBank",
    "apply_overdue_policy",
    "barcode_to_linha",
    "build_barcode",
    "date_for_factor",
    "due_factor",
    "ensure_payable",
    "format_linha",
    "issue_boleto",
    "linha_to_barcode",
    "parse_barcode",
    "payable_window",
    "to_cents",
    "validate_barcode",
    "validate_linha",
]
