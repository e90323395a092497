"""Sicredi (748) in CNAB 240: "Manual CNAB 240 Sicredi", Banco Cooperativo Sicredi, Versão 1.4,
Agosto/2019 (file layout 081, lot layout 040).

The account is the cooperativa (the beneficiary's `agencia`, 5 digits here) with the conta
corrente and its DV; the agência DV and the convênio are blank, as Sicredi uses neither. The
nosso número goes digits only, AABNNNNND, left-aligned in its 20 positions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..banks.sicredi import BENEFICIARY_BYTES, format_nosso_numero, nosso_numero_dv
from ..errors import Problem
from .bank import FebrabanLayout, Movement
from .fields import blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

# Table C004 as Sicredi's manual lists it; for these four it keeps FEBRABAN's codes.
_SICREDI_MOVEMENTS = {
    Movement.ENTRY: "01",
    Movement.WRITE_OFF: "02",  # pedido de baixa
    Movement.REBATE: "04",  # concessão de abatimento
    Movement.DUE_DATE: "06",  # alteração de vencimento
}

# Table C044 (código de movimento retorno). 12 and 14 confirm that the instruction was received
# and taken; 26, 30 and 36 refuse an instruction, a change or a baixa asked for a title that
# stays registered.
_SICREDI_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "06": ("PAID", "Liquidação"),
    "07": ("OTHER", "Instrução de desconto recebida"),
    "08": ("OTHER", "Cancelamento de desconto recebido"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "12": ("REBATE_GRANTED", "Instrução de abatimento recebida"),
    "13": ("OTHER", "Cancelamento de abatimento recebido"),
    "14": ("DUE_DATE_CHANGED", "Alteração de vencimento recebida"),
    "17": ("PAID", "Liquidação após baixa ou de título não registrado"),
    "19": ("OTHER", "Instrução de protesto recebida"),
    "20": ("OTHER", "Sustação ou cancelamento de protesto recebido"),
    "23": ("OTHER", "Remessa a cartório"),
    "24": ("OTHER", "Retirada de cartório, título mantido em carteira"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "27": ("OTHER", "Alteração de outros dados confirmada"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    "30": ("INSTRUCTION_REJECTED", "Alteração de dados rejeitada"),
    "36": ("INSTRUCTION_REJECTED", "Baixa rejeitada"),
    "51": ("OTHER", "Título DDA reconhecido pelo pagador"),
    "52": ("OTHER", "Título DDA não reconhecido pelo pagador"),
    "78": ("OTHER", "Pedido de negativação recebido"),
    "79": ("OTHER", "Pedido de exclusão de negativação recebido"),
    "80": ("OTHER", "Entrada em negativação confirmada"),
    "81": ("OTHER", "Entrada em negativação rejeitada"),
    "82": ("OTHER", "Exclusão de negativação confirmada"),
    "83": ("OTHER", "Exclusão de negativação rejeitada"),
    "84": ("OTHER", "Negativação excluída por outros motivos"),
    "85": ("OTHER", "Ocorrência informativa por outros motivos"),
}

# The manual ties the motivos of 02, 03, 26 and 30 to table C047-A, the rejections (an 02's
# only motivo there, A4, says the payer uses DDA). It names no table for 36, a refused baixa;
# A is the only table of refusals, so its motivos are read there too.
_TABLE_A_OCCURRENCES = frozenset({"02", "03", "26", "30", "36"})

# Table C047-A, reworded.
_SICREDI_REJECTIONS = {
    "01": "Código do banco inválido",
    "02": "Código do registro detalhe inválido",
    "03": "Código do segmento inválido",
    "04": "Movimento não permitido para a carteira",
    "05": "Código de movimento inválido",
    "06": "Tipo ou número de inscrição do beneficiário inválido",
    "07": "Cooperativa/agência, conta ou DV inválido",
    "08": "Nosso número inválido",
    "09": "Nosso número em duplicidade",
    "10": "Carteira inválida",
    "11": "Forma de cadastramento do título inválida",
    "12": "Tipo de documento inválido",
    "13": "Identificação da emissão do boleto inválida",
    "14": "Identificação da distribuição do boleto inválida",
    "15": "Características da cobrança incompatíveis",
    "16": "Data de vencimento inválida",
    "17": "Vencimento anterior à data de emissão",
    "18": "Vencimento fora do prazo de operação",
    "20": "Valor do título inválido",
    "21": "Espécie do título inválida",
    "22": "Espécie do título não permitida para a carteira",
    "23": "Aceite inválido",
    "24": "Data de emissão inválida",
    "25": "Data de emissão posterior à data de entrada",
    "26": "Código de juros de mora inválido",
    "27": "Valor ou taxa de juros de mora inválido",
    "28": "Código de desconto inválido",
    "29": "Desconto igual ou maior que o valor do título",
    "30": "Desconto a conceder não confere",
    "31": "Já existe um desconto concedido antes",
    "33": "Valor do abatimento inválido",
    "34": "Abatimento igual ou maior que o valor do título",
    "35": "Abatimento a conceder não confere",
    "36": "Já existe um abatimento concedido antes",
    "37": "Código de protesto inválido",
    "38": "Prazo de protesto inválido",
    "39": "Protesto não permitido para o título",
    "40": "Título já tem ordem de protesto",
    "41": "Sustação pedida para título sem instrução de protesto ou negativação",
    "44": "Código da moeda inválido",
    "45": "Nome do pagador ausente",
    "46": "Tipo ou número de inscrição do pagador inválido",
    "47": "Endereço do pagador ausente",
    "48": "CEP inválido",
    "53": "Tipo ou número de inscrição do sacador/avalista inválido",
    "54": "Sacador/avalista ausente",
    "55": "Nosso número no banco correspondente ausente",
    "56": "Código do banco correspondente ausente",
    "57": "Código da multa inválido",
    "58": "Data da multa inválida",
    "59": "Valor ou percentual da multa inválido",
    "60": "Movimento para título não cadastrado",
    "61": "Alteração de cooperativa/agência cobradora inválida",
    "62": "Tipo de impressão inválido",
    "63": "Entrada de título já cadastrado",
    "64": "Número da linha inválido",
    "79": "Data dos juros de mora inválida",
    "80": "Data do desconto inválida",
    "84": "Número de autorização inexistente",
    "85": "Título com pagamento vinculado",
    "86": "Seu número inválido",
    "A4": "Pagador aderente ao DDA",
    "CZ": "Instrução inválida",
    "L6": "Instrução não permitida para beneficiário pessoa física",
}

_NOSSO_NUMERO = re.compile(r"(\d{2})/(\d)(\d{5})-(\d)")


def _nosso_numero_field(nosso_numero: str) -> str:
    """Segment P 38-57: the nosso número's digits, AABNNNNND, left-aligned."""
    return "".join(c for c in nosso_numero if c.isdigit()).ljust(20)


class Sicredi(FebrabanLayout):
    code = "748"
    file_name = "SICREDI"
    file_layout = "081"
    lot_layout = "040"
    lot_header_12_13 = blanks(2)
    # P 63-77 has 15 positions but Sicredi reads only 63-72, and a retorno echoes those ten.
    document_number_width = 10
    payer_name_width = 40
    # Sicredi's espécies have no plain duplicata mercantil (FEBRABAN 02); its own is the
    # duplicata mercantil por indicação.
    especie = "03"
    collecting_agency_dv = " "
    reason_slots = 5
    density = "01600"  # 21.0: 1600 BPI, the manual's default
    # Sicredi fills the trailer's totals only in a retorno, but its fields are numeric: the
    # true count and sum of this cobrança simples are valid where blanks would not be.
    writes_lot_totals = True

    def movement_code(self, movement: Movement) -> str:
        return _SICREDI_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        if header.test_file:
            return [
                Problem(
                    "test_file",
                    "Sicredi's CNAB 240 has no test-file flag: the homologation remessa is an "
                    "ordinary file agreed with the cooperativa",
                )
            ]
        return []

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        config = header.beneficiary
        return (
            blanks(20)  # convênio: not used by Sicredi
            + num(config.agencia, 5, "cooperativa")
            + blanks(1)  # DV of the cooperativa: none
            + num(config.conta, 12, "conta corrente")
            + num(config.conta_dv, 1, "conta corrente DV")
            + blanks(1)  # DV of cooperativa/conta: not used
        )

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        config = header.beneficiary
        match = _NOSSO_NUMERO.fullmatch(nosso_numero)
        if match is None:
            return f"Sicredi nosso número is printed AA/BNNNNN-D, got {nosso_numero!r}"
        year, byte, number, dv = match.groups()
        if byte not in BENEFICIARY_BYTES:
            return f"Sicredi nosso número {nosso_numero} has byte de geração {byte}, not 2 to 9"
        expected = nosso_numero_dv(
            config.agencia, config.posto, config.codigo_beneficiario, year + byte + number
        )
        if int(dv) != expected:
            return (
                f"Sicredi nosso número {nosso_numero} has DV {dv}; for cooperativa "
                f"{config.agencia}, posto {config.posto} and código do beneficiário "
                f"{config.codigo_beneficiario} it is {expected}"
            )
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        registration = (
            "1"  # carteira: cobrança simples
            + "1"  # forma de cadastramento: com registro
            + "1"  # tipo de documento: tradicional (Sicredi does not tell them apart)
            + "2"  # emissão: the beneficiary prints the boleto (this product's PDF)
            + "2"  # distribuição: the beneficiary delivers it (by e-mail)
        )
        return self.company_block(header, in_lot=True)[20:], registration

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return _nosso_numero_field(nosso_numero)

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:37] + _nosso_numero_field(nosso_numero)

    def interest_code(self, daily_interest_cents: int) -> str:
        return "1" if daily_interest_cents else "3"  # valor por dia, or isento

    def title_tail(self) -> str:
        # The manual asks for baixa code 1 with 60 days, always, on every movement.
        return "1" + "060" + "09" + zeros(10) + blanks(1)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        field = cut(segment_t, 38, 57).strip()
        if len(field) == 9 and field.isascii() and field.isdigit():
            return format_nosso_numero(field)
        # Not a Sicredi number: kept as sent, so it matches no issued boleto.
        return field

    def outcome_name(self, code: str) -> str:
        return _SICREDI_OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _SICREDI_OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        return code in _TABLE_A_OCCURRENCES

    def reason_text(self, reason: str) -> str:
        return _SICREDI_REJECTIONS.get(reason, "")
