"""Santander (033) in CNAB 240: not written yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, Movement

if TYPE_CHECKING:
    from .remessa import RemessaHeader


class Santander:
    code = "033"
    file_name = "SANTANDER"
    file_layout = "000"
    lot_layout = "000"
    lot_header_12_13 = "  "
    document_number_width = 15
    payer_name_width = 40
    especie = "02"
    collecting_agency_dv = " "
    reason_slots = 5
    writes_lot_totals = False

    def movement_code(self, movement: Movement) -> str:
        return FEBRABAN_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        return [Problem("bank_code", "Santander remessas are not written yet")]

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        raise NotImplementedError

    def file_header_tail(self) -> str:
        raise NotImplementedError

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        raise NotImplementedError

    def title_block(self, header: RemessaHeader, nosso_numero: str) -> str:
        raise NotImplementedError

    def interest_code(self, daily_interest_cents: int) -> str:
        raise NotImplementedError

    def title_tail(self) -> str:
        raise NotImplementedError

    def retorno_nosso_numero(self, segment_t: str) -> str:
        raise NotImplementedError

    def outcome_name(self, code: str) -> str:
        return "OTHER"

    def describe(self, code: str) -> str:
        return f"Ocorrência {code}"

    def is_rejection(self, code: str) -> bool:
        return False

    def reason_text(self, reason: str) -> str:
        return ""
