"""CNAB 240 cobrança files, the remessa and the retorno, for every bank in `CNAB_BANKS`."""

from ..boleto import PayerAddress
from .bank import CnabBank, Movement, PayerProblem
from .banks import CNAB_BANKS, cnab_bank_for
from .fields import RECORD_LENGTH, CnabFieldError
from .remessa import (
    InvalidRemessa,
    PayerIdKind,
    RemessaDetails,
    RemessaHeader,
    RemessaPayer,
    RemessaTitle,
    remessa_lines,
    remessa_text,
    title_from_boleto,
)
from .retorno import FileError, Occurrence, Outcome, Reason, Retorno, Unmatched, parse_retorno

__all__ = [
    "CNAB_BANKS",
    "RECORD_LENGTH",
    "CnabBank",
    "CnabFieldError",
    "FileError",
    "InvalidRemessa",
    "Movement",
    "Occurrence",
    "Outcome",
    "PayerAddress",
    "PayerIdKind",
    "PayerProblem",
    "Reason",
    "RemessaDetails",
    "RemessaHeader",
    "RemessaPayer",
    "RemessaTitle",
    "Retorno",
    "Unmatched",
    "cnab_bank_for",
    "parse_retorno",
    "remessa_lines",
    "remessa_text",
    "title_from_boleto",
]
