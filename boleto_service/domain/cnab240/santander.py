"""Santander (033) in CNAB 240: "Layout de Arquivo Padrão 240 - Cobrança" (H7815), Versão 2.9,
Abril/2018 (file layout 040, lot layout 030). Later editions exist (8.3, Abril/2025, is cited
elsewhere); the positions used here are those of 2.9, which 2.5 (Setembro/2014) shares.

Santander moves several fields away from FEBRABAN's places: its file header has the tipo de
inscrição at 17 and a 15-digit CNPJ at 18-32, several of FEBRABAN's fields are reserved blanks
here, and its segment T (retorno) has a shorter title block, so that seu número is at 55-69,
vencimento at 70-77, valor nominal at 78-92, tarifa at 194-208 and the motivos at 209-218.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from ..banks.santander import nosso_numero_dv
from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, FEBRABAN_REJECTIONS, FebrabanLayout, Movement, SegmentT
from .fields import blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

# Segment P 58, "tipo de cobrança" (note 5): 101 is cobrança simples rápida com registro and
# 201 its caucionada (penhor) form. A 102 boleto (sem registro) is registered the way note 46
# prescribes for a sem-registro boleto whose line carries the due factor and the amount: "B".
_TIPO_DE_COBRANCA = {"101": "5", "102": "B", "201": "6"}

# Note 41. 93 (baixa operacional) is sent while a payment is still settling and has no values
# beyond the amount: the liquidação (06) that follows is the payment.
_SANTANDER_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "04": ("OTHER", "Transferência de carteira: entrada"),
    "05": ("OTHER", "Transferência de carteira: baixa"),
    "06": ("PAID", "Liquidação"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "11": ("OTHER", "Título em carteira (em ser)"),
    "12": ("REBATE_GRANTED", "Instrução de abatimento confirmada"),
    "13": ("OTHER", "Cancelamento de abatimento confirmado"),
    "14": ("DUE_DATE_CHANGED", "Alteração de vencimento confirmada"),
    "17": ("PAID", "Liquidação após baixa ou de título não registrado"),
    "19": ("OTHER", "Instrução de protesto confirmada"),
    "20": ("OTHER", "Sustação de protesto (não protestar) confirmada"),
    "23": ("OTHER", "Remessa a cartório (aponte)"),
    "24": ("OTHER", "Retirada de cartório, título mantido em carteira"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "27": ("OTHER", "Alteração de outros dados confirmada"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    "29": ("OTHER", "Ocorrência do pagador"),
    "30": ("INSTRUCTION_REJECTED", "Alteração de dados rejeitada"),
    "32": ("OTHER", "Código de IOF inválido"),
    "51": ("OTHER", "Título DDA reconhecido pelo pagador"),
    "52": ("OTHER", "Título DDA não reconhecido pelo pagador"),
    "53": ("OTHER", "Título DDA recusado pela CIP"),
    "61": ("OTHER", "Alteração do valor nominal confirmada"),
    "91": ("OTHER", "Alteração do valor ou percentual mínimo confirmada"),
    "92": ("OTHER", "Alteração do valor ou percentual máximo confirmada"),
    "93": ("OTHER", "Baixa operacional"),
    "94": ("OTHER", "Cancelamento de baixa operacional"),
    "A4": ("OTHER", "Pagador DDA"),
}

# Note 41-A: the motivos of occurrences 03, 26 and 30, worded here in short; FEBRABAN's C047
# where Santander words a motivo the same, its own wording or code otherwise.
_SANTANDER_REJECTIONS = FEBRABAN_REJECTIONS | {
    "04": "Código de movimento não permitido para a carteira",
    "06": "Tipo ou número de inscrição do beneficiário inválido",
    "07": "Agência, conta ou dígito inválido",
    "09": "Nosso número em duplicidade",
    "11": "Forma de cadastramento do título inválida",
    "12": "Tipo de documento inválido",
    "13": "Identificação da emissão do boleto inválida",
    "14": "Identificação da distribuição do boleto inválida",
    "15": "Características da cobrança incompatíveis",
    "17": "Vencimento anterior à data de emissão",
    "18": "Vencimento fora do prazo da operação",
    "19": "Título de banco correspondente com vencimento abaixo do prazo mínimo",
    "22": "Espécie não aceita na carteira",
    "23": "Aceite inválido",
    "24": "Data de emissão inválida",
    "25": "Data de emissão posterior à data de entrada",
    "27": "Valor ou taxa de juros de mora inválido",
    "28": "Código de desconto inválido",
    "29": "Desconto igual ou maior que o valor do título",
    "30": "Desconto a conceder não confere",
    "31": "Desconto já concedido anteriormente",
    "32": "Valor do IOF inválido",
    "33": "Valor do abatimento inválido",
    "34": "Abatimento igual ou maior que o valor do título",
    "35": "Abatimento a conceder não confere",
    "36": "Abatimento já concedido anteriormente",
    "37": "Código de protesto inválido",
    "38": "Prazo de protesto inválido",
    "39": "Protesto não permitido para o título",
    "40": "Título já com ordem de protesto",
    "41": "Sustação pedida para título sem instrução de protesto",
    "42": "Código de baixa/devolução inválido",
    "43": "Prazo de baixa/devolução inválido",
    "45": "Nome do pagador ausente",
    "46": "Tipo ou número de inscrição do pagador inválido",
    "47": "Endereço do pagador ausente",
    "50": "CEP de banco correspondente",
    "51": "CEP não corresponde à UF",
    "52": "UF inválida",
    "53": "Tipo ou número de inscrição do sacador/avalista inválido",
    "54": "Sacador/avalista ausente",
    "55": "Nosso número no banco correspondente ausente",
    "56": "Código do banco correspondente ausente",
    "57": "Código da multa inválido",
    "58": "Data da multa inválida",
    "59": "Valor ou percentual da multa inválido",
    "60": "Movimento para título não registrado",
    "61": "Agência cobradora ou dígito inválido",
    "62": "Tipo de impressão inválido",
    "63": "Entrada de título já registrado",
    "64": "Número da linha inválido",
    "65": "Instrução não permitida para a espécie do título",
    "72": "Entrada de título sem registro",
    "90": "Identificador ou quantidade de parcelas do carnê inválido",
    "91": "Título descontado: instrução não permitida",
    "92": "Data de desconto inválida",
    "93": "Número do lote da remessa inválido",
    "B2": "Valor nominal do título conflitante",
    "B3": "Tipo de pagamento inválido",
    "B4": "Valor ou percentual máximo inválido",
    "B5": "Valor ou percentual mínimo inválido",
    "Z1": "Quantidade de pagamentos possíveis inválida",
    "Z5": "Título com reserva: instrução não permitida",
    "Z6": "Segmento inválido para o tipo de carteira",
    "Z7": "Instrução exige o segmento Y53",
}

_PRINTED_NOSSO_NUMERO = re.compile(r"(\d{12})-(\d)")

# Segment T: 18-32 the account, 33-40 reserved, 41-53 the nosso número with its DV; from the
# carteira on, FEBRABAN's fields four positions left (five from the agência cobradora's DV, as
# the agência has four digits).
SANTANDER_SEGMENT_T = SegmentT(
    carteira=54,
    document_number=(55, 69),
    due_date=(70, 77),
    face_value=(78, 92),
    company_use=(101, 125),
    payer=(128, 183),
    fee=(194, 208),
    reasons=(209, 218),
)


def codigo_de_transmissao(header: RemessaHeader) -> str:
    """Header 33-47 and lot header 54-68: agência + '0000' + código do beneficiário.

    The manual (note 3) only says Santander hands this code out; every one seen in published
    files and implementations is built this way, and no field of this product can carry
    another one.
    """
    config = header.beneficiary
    return num(config.agencia, 4, "agência") + "0000" + config.codigo_beneficiario


class Santander(FebrabanLayout):
    code = "033"
    file_name = "BANCO SANTANDER"
    file_layout = "040"
    lot_layout = "030"
    lot_header_12_13 = blanks(2)
    document_number_width = 15
    payer_name_width = 40
    especie = "02"  # DM, duplicata mercantil (note 20)
    collecting_agency_dv = blanks(1)  # 106 is "reservado (uso Banco)"; 101-105 carry the zeros
    reason_slots = 5
    # The remessa's trailer de lote has only the record count; 24-240 are reserved.
    writes_lot_totals = False
    # Reserved blanks where FEBRABAN has the time, the density, the data do crédito, the third
    # discount, the débito automático and the contas para conciliação.
    density = blanks(5)
    lot_header_200_207 = blanks(8)
    segment_r_42_65 = blanks(24)
    segment_r_200_240 = blanks(41)
    file_trailer_30_35 = blanks(6)
    # Its 3 is "utilizar perfil do beneficiário"; not protesting is its 0.
    no_protest_code = "0"
    # Carnê: parcela, total de parcelas and plano, numeric, where FEBRABAN has a blank nosso
    # número no banco correspondente.
    segment_q_213_240 = zeros(9) + blanks(19)
    segment_t = SANTANDER_SEGMENT_T

    def movement_code(self, movement: Movement) -> str:
        # Note 14 numbers entrada, baixa, abatimento and alteração de vencimento as FEBRABAN.
        return FEBRABAN_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        dv = header.agencia_dv
        if dv and not (dv.isascii() and dv.isdigit() and len(dv) == 1):
            return [
                Problem(
                    "agencia_dv",
                    f"Santander agência DV is one digit (or left empty), got {dv!r}",
                )
            ]
        return []

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        transmissao = codigo_de_transmissao(header)
        if in_lot:
            return blanks(20) + transmissao + blanks(5)
        return transmissao + blanks(25)

    def file_header_inscription(self, header: RemessaHeader) -> str:
        return blanks(8) + "2" + num(header.beneficiary.cnpj, 15, "CNPJ")

    def generation_time(self, header: RemessaHeader) -> str:
        return blanks(6)

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        match = _PRINTED_NOSSO_NUMERO.fullmatch(nosso_numero)
        if match is None:
            return f"Santander nosso número is printed NNNNNNNNNNNN-D, got {nosso_numero!r}"
        number, dv = match.groups()
        expected = nosso_numero_dv(number)
        if int(dv) != expected:
            return f"Santander nosso número {nosso_numero} has DV {dv}, expected {expected}"
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        config = header.beneficiary
        account = num(config.conta, 9, "conta") + num(config.conta_dv, 1, "conta DV")
        accounts = (
            num(config.agencia, 4, "agência")
            + (header.agencia_dv or "0")
            + account
            # "Conta cobrança": the manual only asks for it on a transfer (movement 12); the
            # bank echoes the conta corrente here in its retornos, so it is written the same.
            + account
            + blanks(2)
        )
        registration = (
            _TIPO_DE_COBRANCA[config.carteira]
            + "1"  # forma de cadastramento: cobrança registrada
            + "1"  # tipo de documento: tradicional
            + blanks(2)
        )
        return accounts, registration

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return nosso_numero.replace("-", "")

    def interest_code(self, daily_interest_cents: int) -> str:
        return "1" if daily_interest_cents else "3"  # valor por dia, or isento

    def default_fine_date(self, due_date: date) -> date:
        # Note 33: the multa is charged after the date given, so the day after the due date is
        # asked for with the due date itself.
        return due_date

    def title_tail(self) -> str:
        # 224 "3": baixa/devolução as the beneficiary's profile at the bank says, so 226-227
        # carry no days; 225 is a fixed zero and 228-229 the currency (00, real).
        return "3" + "0" + "00" + "00" + blanks(11)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        digits = cut(segment_t, 41, 53)
        return f"{digits[:12]}-{digits[12:]}"

    def retorno_title_block(self, segment_p: str) -> str:
        # Agência, conta corrente and their DVs as in P, then blanks where P has the conta
        # cobrança, and the nosso número with its DV.
        return segment_p[17:32] + blanks(8) + segment_p[44:57]

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:44] + nosso_numero.replace("-", "")

    def outcome_name(self, code: str) -> str:
        return _SANTANDER_OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _SANTANDER_OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        return code in ("03", "26", "30")

    def reason_text(self, reason: str) -> str:
        return _SANTANDER_REJECTIONS.get(reason, "")
