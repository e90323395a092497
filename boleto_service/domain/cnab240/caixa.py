"""Caixa (104) in CNAB 240: "Leiaute de Arquivo Eletrônico Padrão CNAB 240 - Cobrança Bancária
CAIXA - SIGCB", 67.118 v010, Junho/2018, in force from 29.06.2018 (file layout 101, lot layout
060), for the 6-digit código do beneficiário.

The beneficiary is the código do beneficiário and the agência with its DV, which Caixa gives
(RemessaHeader.agencia_dv); the conta corrente appears nowhere in these files.

Where Caixa parts from FEBRABAN: segment R 200-240 (FEBRABAN's débito automático), the lot
trailer 93-115 (cobrança descontada) and the file trailer 30-35 are blanks; segment P 119-126,
the day mora starts, must come after the due date (note C019); and segment T returns the nosso
número one position left of segment P, with its DV.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..banks.caixa import caixa_dv, printed_nosso_numero
from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, FEBRABAN_REJECTIONS, FebrabanLayout, Movement
from .fields import alpha, blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

# Note C044. Codes 46 and 47 come from the intraday "retorno on-line" service; a 46 and the day's
# 06 for the same payment move a boleto once, since a payment is final. Estornos (44, 47) are
# left for a person: money reported received is never undone automatically.
_CAIXA_OCCURRENCES = {
    "01": ("OTHER", "Solicitação de impressão de títulos confirmada"),
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "04": ("OTHER", "Transferência de carteira/entrada"),
    "05": ("OTHER", "Transferência de carteira/baixa"),
    "06": ("PAID", "Liquidação"),
    "07": ("OTHER", "Instrução de desconto recebida"),
    "08": ("OTHER", "Cancelamento de desconto recebido"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "12": ("REBATE_GRANTED", "Instrução de abatimento recebida"),
    "13": ("OTHER", "Cancelamento de abatimento recebido"),
    "14": ("DUE_DATE_CHANGED", "Alteração de vencimento recebida"),
    "19": ("OTHER", "Instrução de protesto recebida"),
    "20": ("OTHER", "Sustação/cancelamento de protesto recebido"),
    "23": ("OTHER", "Remessa a cartório"),
    "24": ("OTHER", "Retirada de cartório"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "27": ("OTHER", "Alteração de outros dados confirmada"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    # Refuses a change to a registered title, as 26 refuses an instruction: neither undoes the
    # registration.
    "30": ("INSTRUCTION_REJECTED", "Alteração de dados rejeitada"),
    "35": ("OTHER", "Inclusão no banco de pagadores confirmada"),
    "36": ("OTHER", "Alteração no banco de pagadores confirmada"),
    "37": ("OTHER", "Exclusão do banco de pagadores confirmada"),
    "38": ("OTHER", "Emissão de boletos do banco de pagadores"),
    "39": ("OTHER", "Manutenção de pagador rejeitada"),
    "40": ("OTHER", "Entrada via banco de pagadores rejeitada"),
    "41": ("OTHER", "Manutenção do banco de pagadores rejeitada"),
    "44": ("OTHER", "Estorno de baixa/liquidação"),
    "45": ("OTHER", "Alteração de dados feita no sistema on-line"),
    "46": ("PAID", "Liquidação on-line"),
    "47": ("OTHER", "Estorno de liquidação on-line"),
    "51": ("OTHER", "Título DDA reconhecido pelo pagador"),
    "52": ("OTHER", "Título DDA não reconhecido pelo pagador"),
    "53": ("OTHER", "Título DDA recusado pela CIP"),
    "61": ("OTHER", "Alteração do valor nominal confirmada"),
    "62": ("OTHER", "Alteração do valor/percentual mínimo/máximo confirmada"),
}

# Note C047, part A: the motivos of occurrences 02, 03, 26 and 30 (a 02 may carry the ones that
# do not stop the registration). Those a file from this product can plausibly get, over
# FEBRABAN's C047 where Caixa words a motivo its own way or adds one.
_CAIXA_REJECTIONS = FEBRABAN_REJECTIONS | {
    "02": "Código do registro inválido",
    "04": "Código de movimento não permitido para a carteira",
    "06": "Tipo ou número de inscrição do beneficiário inválido",
    "07": "Agência, conta ou DV inválido",
    "09": "Nosso número em duplicidade",
    "11": "Data de geração inválida",
    "12": "Tipo de documento inválido",
    "13": "Identificação da emissão do boleto inválida",
    "14": "Identificação da entrega do boleto inválida",
    "15": "Características da cobrança incompatíveis",
    "17": "Vencimento anterior à data de emissão",
    "22": "Espécie do título não permitida para a carteira",
    "23": "Aceite inválido",
    "24": "Data de emissão inválida",
    "25": "Data de emissão posterior à data de entrada",
    "27": "Valor ou taxa de juros de mora inválido",
    "28": "Código de desconto inválido",
    "29": "Desconto maior ou igual ao valor do título",
    "32": "Valor do IOF inválido",
    "33": "Valor do abatimento inválido",
    "34": "Abatimento maior ou igual ao valor do título",
    "35": "Abatimento a conceder não confere",
    "36": "Título já tem abatimento concedido",
    "37": "Código para protesto inválido",
    "38": "Prazo para protesto inválido",
    "42": "Código para baixa/devolução inválido",
    "43": "Prazo para baixa/devolução inválido",
    "46": "Tipo ou número de inscrição do pagador inválido",
    "51": "CEP incompatível com a UF",
    "52": "UF inválida",
    "57": "Código da multa inválido",
    "58": "Data da multa inválida",
    "59": "Valor ou percentual da multa inválido",
    "60": "Movimento para título não cadastrado",
    "63": "Entrada de título já cadastrado",
    "65": "CEP do pagador não encontrado",
    "66": "Agência cobradora não encontrada",
    "67": "Agência do beneficiário não encontrada",
    "68": "Movimento inválido para o título",
    "69": "Alteração de dados inválida",
    "71": "Erro na composição do arquivo",
    "72": "Lote de serviço inválido",
    "73": "Código do beneficiário inválido",
    "74": "Beneficiário fora da cobrança eletrônica",
    "75": "Nome da empresa inválido",
    "76": "Nome do banco inválido",
    "77": "Código de remessa inválido",
    "78": "Data ou hora de geração do arquivo inválida",
    "79": "Número sequencial do arquivo inválido",
    "80": "Versão do leiaute do arquivo inválida",
    "81": "Literal REMESSA-TESTE aceita só na fase de testes",
    "82": "Literal REMESSA-TESTE exigida na fase de testes",
    "83": "Tipo ou número de inscrição da empresa inválido",
    "84": "Tipo de operação inválido",
    "85": "Tipo de serviço inválido",
    "87": "Número da remessa inválido",
    "88": "Número da remessa não é maior que o da anterior",
    "89": "Lote de serviço divergente",
    "90": "Número sequencial do registro inválido",
    "91": "Segmentos do registro detalhe fora de sequência",
    "92": "Código de movimento diferente entre os segmentos do título",
    "93": "Quantidade de registros do lote inválida",
    "94": "Quantidade de registros do lote divergente",
    "95": "Quantidade de lotes do arquivo inválida",
    "96": "Quantidade de lotes do arquivo divergente",
    "97": "Quantidade de registros do arquivo inválida",
    "98": "Quantidade de registros do arquivo divergente",
    "A4": "Pagador cadastrado no DDA",
    "AF": "Título não está em aberto",
    "AG": "Título vencido ou vencendo",
    "AM": "Nosso número fora de sequência",
    "B2": "Valor nominal do título conflitante",
    "VB": "Registro duplicado",
    "VC": "Beneficiário precisa usar o padrão CNAB 240",
    "VE": "Número do documento de cobrança inválido",
    "VL": "Beneficiário não cadastrado",
    "VN": "Forma de emissão do boleto inválida",
    "VP": "Forma de entrega inválida para boleto emitido pelo beneficiário",
    "WO": "Data de vencimento inválida",
    "YA": "Data de juros inválida ou não informada",
    "YD": "Código de ocorrência inválido",
    "YG": "Remessa sem registro tipo 9",
    "YJ": "Trailer do arquivo não encontrado",
    "YY": "Prazo para devolução fora de 1 a 999 dias",
}

_PRINTED_NOSSO_NUMERO = re.compile(r"(14\d{15})-(\d)")
# Days after the due date that an unpaid title is baixado (note C029). An overdue debt gets a new,
# re-dated boleto, so the old one only needs to outlive late payments still clearing.
_DAYS_TO_WRITE_OFF = 30


def _nosso_numero_field(nosso_numero: str) -> str:
    """Segment P 30-57: Caixa's reserve, then the nosso número without its DV."""
    return (
        zeros(10)
        + "0"  # 40: SINCO modalidade, '0' with a 17-digit nosso número
        + nosso_numero[:17]  # 41-57: modalidade 14 and the 15 free digits
    )


class Caixa(FebrabanLayout):
    code = "104"
    file_name = "CAIXA ECONOMICA FEDERAL"
    file_layout = "101"
    lot_layout = "060"
    lot_header_12_13 = zeros(2)
    document_number_width = 11
    payer_name_width = 40
    especie = "02"
    collecting_agency_dv = "0"
    reason_slots = 5
    writes_lot_totals = True
    segment_r_200_240 = blanks(41)
    lot_trailer_93_115 = blanks(23)
    file_trailer_30_35 = blanks(6)

    def movement_code(self, movement: Movement) -> str:
        return FEBRABAN_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        dv = header.agencia_dv
        if len(dv) == 1 and dv.isascii() and dv.isdigit():
            return []
        return [
            Problem(
                "agencia_dv",
                f"Caixa remessas need the agência's DV, one digit given by Caixa, got {dv!r}",
            )
        ]

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        codigo = self._codigo(header)
        agencia = self._agencia(header)
        if in_lot:
            # 66-72: código do modelo personalizado, only for boletos Caixa's print shop designs.
            return codigo + zeros(14) + agencia + codigo + zeros(7) + "0"
        return zeros(20) + agencia + codigo + zeros(7) + "0"

    def file_header_tail(self, header: RemessaHeader) -> str:
        # 192-211 is the situação do arquivo: blanks mean production (note G022).
        situacao = alpha("REMESSA-TESTE" if header.test_file else "", 20)
        return blanks(20) + situacao + blanks(29)

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        match = _PRINTED_NOSSO_NUMERO.fullmatch(nosso_numero)
        if match is None:
            return f"Caixa nosso número is printed 14NNNNNNNNNNNNNNN-D, got {nosso_numero!r}"
        digits, dv = match.groups()
        expected = caixa_dv(digits)
        if int(dv) != expected:
            return f"Caixa nosso número {nosso_numero} has DV {dv}, expected {expected}"
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        registration = (
            "1"  # carteira: cobrança simples
            + "1"  # forma de cadastramento: registrada
            + "2"  # tipo de documento: escritural, the only one Caixa takes
            + "2"  # emissão: the beneficiary prints the boleto (this product's PDF)
            + "0"  # entrega: by the beneficiary (e-mail delivery by Caixa is for boletos it prints)
        )
        return self._agencia(header) + self._codigo(header), registration

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return _nosso_numero_field(nosso_numero)

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:29] + _nosso_numero_field(nosso_numero)

    def interest_code(self, daily_interest_cents: int) -> str:
        return "1" if daily_interest_cents else "3"  # value per day, or isento

    def interest_start(self, due_date: date) -> date:
        # C019: mora starts after the due date, and this product charges none before it.
        return due_date + timedelta(days=1)

    def title_tail(self) -> str:
        # 224-227: titles not protested must be set to baixa/devolução (note C026), after a
        # number of days; 228-229 currency; 230-239 zeros; 240 blank: no partial payments.
        return "1" + num(_DAYS_TO_WRITE_OFF, 3) + "09" + zeros(10) + blanks(1)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        # Segment T holds the nosso número one position left of segment P: 40-56, DV at 57.
        digits = cut(segment_t, 40, 56)
        if not (digits.isascii() and digits.isdigit()):
            return digits.strip()  # a fee line (28) about no title leaves it blank
        # The DV at 57 is a function of these digits; computing it matches the printed number
        # even from a file that leaves 57 blank.
        return printed_nosso_numero(digits)

    def retorno_title_block(self, segment_p: str) -> str:
        # The account fields are zeros but for the código do beneficiário, and the nosso número
        # moves one position left to make room for its DV.
        digits = cut(segment_p, 41, 57)
        return (
            zeros(6)
            + cut(segment_p, 24, 29)
            + zeros(3)
            + zeros(3)  # 33-35: banco de pagadores, only for movements 36 to 38
            + "0"
            + blanks(2)
            + "0"
            + digits
            + str(caixa_dv(digits))
        )

    def outcome_name(self, code: str) -> str:
        return _CAIXA_OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _CAIXA_OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        return code in ("02", "03", "26", "30")

    def reason_text(self, reason: str) -> str:
        return _CAIXA_REJECTIONS.get(reason, "")

    @staticmethod
    def _agencia(header: RemessaHeader) -> str:
        """Agência (5 digits, one leading zero) and its DV."""
        return num(header.beneficiary.agencia, 5, "agência") + alpha(header.agencia_dv, 1)

    @staticmethod
    def _codigo(header: RemessaHeader) -> str:
        return num(header.beneficiary.codigo_beneficiario, 6, "código do beneficiário")
