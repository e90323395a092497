"""Itaú (341) in CNAB 240: "Cobrança Bancária - Layout de Arquivos FEBRABAN 240", Janeiro/2017
(file layout 040, lot layout 030)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..banks.itau import nosso_numero_dac
from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, FebrabanLayout, Movement, PayerProblem
from .fields import blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

# Itaú's own numbering: its 17 is a rejected change, not FEBRABAN's "liquidação após baixa", and
# its 10 (baixa por ter sido liquidado) follows a 06 that already reported the payment.
_ITAU_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "06": ("PAID", "Liquidação normal"),
    "08": ("PAID", "Liquidação em cartório"),
    "09": ("WRITTEN_OFF", "Baixa simples"),
    "10": ("OTHER", "Baixa por ter sido liquidado"),
    "12": ("REBATE_GRANTED", "Abatimento concedido"),
    "14": ("DUE_DATE_CHANGED", "Vencimento alterado"),
    "15": ("INSTRUCTION_REJECTED", "Baixa rejeitada"),
    "16": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "17": ("INSTRUCTION_REJECTED", "Alteração/exclusão de dados rejeitada"),
    "18": ("OTHER", "Cobrança contratual: instrução rejeitada/pendente"),
    "32": ("WRITTEN_OFF", "Baixa por ter sido protestado"),
}

# Itaú's table 1 (entradas rejeitadas), the codes a file from this product can plausibly get.
_ITAU_REJECTIONS = {
    "03": "Não foi possível atribuir a agência cobradora pelo CEP, ou CEP inválido",
    "04": "Sigla do estado inválida",
    "05": "Prazo da operação menor que o mínimo ou maior que o máximo",
    "08": "Nome do pagador não informado ou deslocado",
    "09": "Agência encerrada",
    "10": "Logradouro não informado ou deslocado",
    "11": "CEP não numérico",
    "13": "CEP incompatível com a sigla do estado",
    "14": "Nosso número já registrado ou fora da faixa",
    "15": "Nosso número em duplicidade no mesmo movimento",
    "18": "Data de entrada inválida para esta carteira",
    "19": "Ocorrência inválida",
    "22": "Carteira não permitida",
    "37": "CNPJ/CPF do pagador não numérico ou igual a zeros",
    "42": "Nosso número fora de faixa",
    "61": "Juros de mora maior que o permitido",
    "66": "Data de vencimento inválida/fora do prazo de operação",
    "67": "Valor do título/quantidade de moeda inválido",
    "68": "Carteira inválida ou não cadastrada no intercâmbio da cobrança",
}

# Itaú's own motivos for the payer refusals a simulated bank makes (FEBRABAN's 46 and 48).
_ITAU_PAYER_REASONS = {
    PayerProblem.INSCRIPTION: "37",
    PayerProblem.CEP: "03",
    PayerProblem.CEP_NOT_NUMERIC: "11",
}


_ITAU_NOSSO_NUMERO = re.compile(r"(\d{3})/(\d{8})-(\d)")


def _nosso_numero_field(nosso_numero: str) -> str:
    """Segment P 38-57: carteira, nosso número and its DAC, digits only, then blanks."""
    carteira, rest = nosso_numero.split("/")
    number, dac = rest.split("-")
    return carteira + number + dac + blanks(8)


class Itau(FebrabanLayout):
    code = "341"
    file_name = "BANCO ITAU SA"
    file_layout = "040"
    lot_layout = "030"
    lot_header_12_13 = zeros(2)
    document_number_width = 10
    # Itaú reads 30; the 10 blanks after it may hold the rest, which Itaú then abbreviates.
    payer_name_width = 30
    especie = "01"
    collecting_agency_dv = "0"
    reason_slots = 4  # 214-221; 222-223 carry the código de liquidação
    writes_lot_totals = True

    def movement_code(self, movement: Movement) -> str:
        return FEBRABAN_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        return []

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        config = header.beneficiary
        return (
            blanks(20)
            + "0"
            + num(config.agencia, 4, "agência")
            + blanks(1)
            + zeros(7)
            + num(config.conta, 5, "conta")
            + blanks(1)
            + num(config.conta_dv, 1, "conta DAC")
        )

    def file_header_tail(self, header: RemessaHeader) -> str:
        return blanks(54) + zeros(3) + blanks(12)

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        config = header.beneficiary
        match = _ITAU_NOSSO_NUMERO.fullmatch(nosso_numero)
        if match is None:
            return f"Itaú nosso número is printed CCC/NNNNNNNN-D, got {nosso_numero!r}"
        carteira, number, dac = match.groups()
        if carteira != config.carteira:
            return f"Itaú nosso número {nosso_numero} is not of carteira {config.carteira}"
        expected = nosso_numero_dac(config.agencia, config.conta, carteira, number)
        if int(dac) != expected:
            return f"Itaú nosso número {nosso_numero} has DAC {dac}, expected {expected}"
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        return self.company_block(header, in_lot=True)[20:], zeros(5)

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return _nosso_numero_field(nosso_numero)

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:37] + _nosso_numero_field(nosso_numero)

    def interest_code(self, daily_interest_cents: int) -> str:
        return "0"  # Itaú has no code here: 127-141 is always "juros de 1 dia"

    def title_tail(self) -> str:
        return "0" + zeros(2) + zeros(13) + blanks(1)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        return f"{cut(segment_t, 38, 40)}/{cut(segment_t, 41, 48)}-{cut(segment_t, 49, 49)}"

    def outcome_name(self, code: str) -> str:
        return _ITAU_OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _ITAU_OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        return code in ("03", "15", "16", "17", "18")

    def reason_text(self, reason: str) -> str:
        return _ITAU_REJECTIONS.get(reason, "")

    def reason_code(self, problem: PayerProblem) -> str:
        return _ITAU_PAYER_REASONS[problem]
