"""Banco do Brasil (001) in CNAB 240: "Particularidades BB - Leiaute CNAB 240", Agosto/2017
(file layout 083, lot layout 042)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, FEBRABAN_REJECTIONS, FebrabanLayout, Movement
from .fields import alpha, blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

_BB_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "06": ("PAID", "Liquidação"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "11": ("OTHER", "Título em carteira (em ser)"),
    "12": ("REBATE_GRANTED", "Confirmação de instrução de abatimento"),
    "14": ("DUE_DATE_CHANGED", "Confirmação de alteração de vencimento"),
    "17": ("PAID", "Liquidação após baixa ou de título não registrado"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    "30": ("INSTRUCTION_REJECTED", "Alteração de dados rejeitada"),
}


class BancoDoBrasil(FebrabanLayout):
    code = "001"
    file_name = "BANCO DO BRASIL S.A."
    file_layout = "083"
    lot_layout = "042"
    lot_header_12_13 = blanks(2)
    document_number_width = 15
    payer_name_width = 40
    especie = "02"
    collecting_agency_dv = " "
    reason_slots = 5
    # BB's trailer de lote has only the record count; 24-240 are "uso exclusivo".
    writes_lot_totals = False

    def movement_code(self, movement: Movement) -> str:
        return FEBRABAN_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        problems = []
        dv = header.agencia_dv
        if len(dv) != 1 or not (dv.isdigit() or dv == "X"):
            problems.append(Problem("agencia_dv", f"BB agência DV is a digit or X, got {dv!r}"))
        variacao = header.variacao_carteira
        if not (variacao.isascii() and variacao.isdigit() and 1 <= len(variacao) <= 3):
            problems.append(
                Problem(
                    "variacao_carteira",
                    f"BB needs the carteira's variação (up to 3 digits), got {variacao!r}",
                )
            )
        return problems

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        config = header.beneficiary
        # "TS" in the lot header asks BB for a test retorno; the file header keeps blanks.
        reserved = "TS" if in_lot and header.test_file else blanks(2)
        return (
            num(config.convenio, 9, "convênio")
            + "0014"  # cobrança cedente
            + num(config.carteira, 2, "carteira")
            + num(header.variacao_carteira, 3, "variação")
            + reserved
            + num(config.agencia, 5, "agência")
            + alpha(header.agencia_dv, 1)
            + num(config.conta, 12, "conta")
            + alpha(config.conta_dv, 1)
            + blanks(1)  # DV of agência/conta: not used by BB
        )

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        convenio = header.beneficiary.convenio
        if not (nosso_numero.isascii() and nosso_numero.isdigit() and len(nosso_numero) == 17):
            return f"BB nosso número has 17 digits (7-digit convênio), got {nosso_numero!r}"
        if not nosso_numero.startswith(convenio):
            return f"BB nosso número {nosso_numero} does not start with convênio {convenio}"
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        config = header.beneficiary
        # C006: BB's manual gives 7 for carteira 17 simples; 18 takes FEBRABAN's 1 (simples).
        carteira_code = "7" if config.carteira == "17" else "1"
        account = (
            num(config.agencia, 5, "agência")
            + alpha(header.agencia_dv, 1)
            + num(config.conta, 12, "conta")
            + alpha(config.conta_dv, 1)
            + blanks(1)
        )
        registration = (
            carteira_code
            + "1"  # forma de cadastramento: com registro
            + "1"  # tipo de documento: tradicional
            + "2"  # emissão: the beneficiary prints the boleto (this product's PDF)
            + "2"  # distribuição: the beneficiary delivers it (by e-mail)
        )
        return account, registration

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return alpha(nosso_numero, 20)  # left-aligned with blanks, as BB asks

    def interest_code(self, daily_interest_cents: int) -> str:
        # 1: value per day; 3: isento (BB only honours it if the carteira is set up that way).
        return "1" if daily_interest_cents else "3"

    def title_tail(self) -> str:
        # 224 baixa code and 225-227 days: BB uses the carteira's registration, asks for zeros.
        return "0" + zeros(3) + "09" + zeros(10) + blanks(1)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        return cut(segment_t, 38, 57).strip()

    def outcome_name(self, code: str) -> str:
        return _BB_OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _BB_OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        return code in ("03", "26", "30")

    def reason_text(self, reason: str) -> str:
        return FEBRABAN_REJECTIONS.get(reason, "")
