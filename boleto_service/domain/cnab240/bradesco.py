"""Bradesco (237) in CNAB 240: "Manual de Procedimentos Operacionais para Troca de Arquivos 240
posições", nº 4008.524.0339, versão 06, 07/2017 (file layout 084, lot layout 042).

Bradesco follows FEBRABAN's positions; what is its own is the company block (the "Código do
Convênio no Banco" is the Código da Empresa Bradesco assigns to the contract), the título block
(carteira, nosso número and its dígito de auto-conferência, which may be 'P') and which of
FEBRABAN's codes it handles ("não tratado pelo banco" marks the others).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..banks.bradesco import agencia_dv, nosso_numero_dv
from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, FebrabanLayout, Movement
from .fields import alpha, blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

# C044, the movement codes of the retorno, with the outcome each one means for a title.
_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "06": ("PAID", "Liquidação"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "12": ("REBATE_GRANTED", "Confirmação de recebimento da instrução de abatimento"),
    "13": ("OTHER", "Confirmação de recebimento do cancelamento de abatimento"),
    "14": ("DUE_DATE_CHANGED", "Confirmação de recebimento da alteração de vencimento"),
    "17": ("PAID", "Liquidação após baixa ou de título não registrado"),
    "19": ("OTHER", "Confirmação de recebimento da instrução de protesto"),
    "20": ("OTHER", "Confirmação de recebimento da sustação de protesto"),
    "23": ("OTHER", "Remessa a cartório"),
    "24": ("OTHER", "Retirada de cartório e manutenção em carteira"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "27": ("OTHER", "Confirmação do pedido de alteração de outros dados"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    "29": ("OTHER", "Ocorrências do pagador"),
    "30": ("INSTRUCTION_REJECTED", "Alteração de dados rejeitada"),
    "33": ("OTHER", "Confirmação da alteração dos dados do rateio de crédito"),
    "34": ("OTHER", "Confirmação do cancelamento dos dados do rateio de crédito"),
    "35": ("OTHER", "Confirmação do desagendamento do débito automático"),
    "40": ("OTHER", "Confirmação da alteração do número do título"),
    "41": ("OTHER", "Confirmação da alteração do número de controle do participante"),
    "42": ("OTHER", "Confirmação da alteração dos dados do pagador"),
    "43": ("OTHER", "Confirmação da alteração dos dados do sacador/avalista"),
    "47": ("OTHER", "Instrução de protesto para fins falimentares confirmada"),
    # Cheque payments: the manual does not say whether a 06 also comes, so none of these three
    # counts as the payment itself (a PAID is final and must not be counted twice).
    "44": ("OTHER", "Título pago com cheque devolvido"),
    "45": ("OTHER", "Título pago com cheque compensado"),
    "50": ("OTHER", "Título pago com cheque pendente de liquidação"),
    "54": ("OTHER", "Confirmação da baixa de título negativado sem protesto"),
    "73": ("OTHER", "Confirmação do pedido de negativação"),
}

# C047-A, the motivos of 03, 26 and 30, for the codes Bradesco handles and this product's files
# can plausibly get; reworded from the manual.
_REJECTIONS = {
    "01": "Código do banco inválido",
    "02": "Código do registro detalhe inválido",
    "03": "Código do segmento inválido",
    "04": "Código de movimento não permitido para a carteira",
    "05": "Código de movimento inválido",
    "06": "Tipo ou número de inscrição do beneficiário inválido",
    "07": "Agência, conta ou dígito inválido",
    "08": "Nosso número inválido",
    "09": "Nosso número duplicado",
    "10": "Carteira inválida",
    "11": "Forma de cadastramento do título inválida",
    "12": "Tipo de documento inválido",
    "13": "Identificação da emissão do boleto inválida",
    "14": "Identificação da distribuição do boleto inválida",
    "15": "Características da cobrança incompatíveis",
    "16": "Data de vencimento inválida",
    "17": "Data de vencimento anterior à data de emissão",
    "18": "Vencimento fora do prazo da operação",
    "20": "Valor do título inválido",
    "21": "Espécie do título inválida",
    "22": "Espécie do título não permitida para a carteira",
    "24": "Data de emissão inválida",
    "25": "Data de emissão posterior à data de entrada",
    "26": "Código de juros de mora inválido",
    "27": "Valor ou taxa de juros de mora inválido",
    "28": "Código do desconto inválido",
    "33": "Valor do abatimento inválido",
    "34": "Valor do abatimento maior ou igual ao valor do título",
    "36": "Já existe abatimento concedido",
    "37": "Código para protesto inválido",
    "42": "Código para baixa/devolução inválido",
    "43": "Prazo para baixa/devolução inválido",
    "44": "Código da moeda inválido",
    "45": "Nome do pagador não informado",
    "46": "Tipo ou número de inscrição do pagador inválido",
    "47": "Endereço do pagador não informado",
    "48": "CEP inválido",
    "50": "CEP de praça atendida por banco correspondente",
    "57": "Código da multa inválido",
    "58": "Data da multa inválida",
    "60": "Movimento para título não cadastrado",
    "63": "Entrada de título já cadastrado",
    "79": "Data de juros de mora inválida",
    "80": "Data do desconto inválida",
    "86": "Seu número inválido",
}

_NOSSO_NUMERO = re.compile(r"(\d{2})/(\d{11})-([0-9P])")


def _nosso_numero_field(nosso_numero: str) -> str:
    """Segment P 38-57 (G069): "identificação do produto" (the carteira in 3 digits), 5 zeros,
    the nosso número and its digit, which the field's "Num" cannot hold when it is P."""
    carteira, rest = nosso_numero.split("/")
    number, dv = rest.split("-")
    return num(carteira, 3, "carteira") + zeros(5) + number + dv


class Bradesco(FebrabanLayout):
    code = "237"
    file_name = "BRADESCO"
    file_layout = "084"
    lot_layout = "042"
    lot_header_12_13 = blanks(2)
    document_number_width = 15
    payer_name_width = 40
    especie = "02"
    # G009 is alphanumeric and the agência cobradora is left for the bank to pick by CEP (C014),
    # so its digit is blank as FEBRABAN leaves unused alphanumeric fields; implementations that
    # write "0" here disagree, the manual gives no default.
    collecting_agency_dv = blanks(1)
    reason_slots = 5
    # C070/C071 are read only in the retorno; the totals are what they would say, in the
    # numeric fields the manual defines, rather than blanks in numeric positions.
    writes_lot_totals = True

    def movement_code(self, movement: Movement) -> str:
        # C004: 01 entrada, 02 pedido de baixa, 04 concessão de abatimento, 06 alteração de
        # vencimento, FEBRABAN's own codes.
        return FEBRABAN_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        problems: list[Problem] = []
        if not header.beneficiary.convenio:
            problems.append(
                Problem(
                    "convenio",
                    "Bradesco remessas carry the Código da Empresa (código do convênio) that "
                    "Bradesco assigns to the cobrança contract; it is not set",
                )
            )
        dv = header.agencia_dv
        if dv and not (len(dv) == 1 and (dv.isdigit() or dv == "P")):
            problems.append(
                Problem("agencia_dv", f"Bradesco agência check digit is a digit or P, got {dv!r}")
            )
        if header.variacao_carteira:
            problems.append(
                Problem(
                    "variacao_carteira",
                    "Bradesco carteiras have no variação; leave it empty, "
                    f"got {header.variacao_carteira!r}",
                )
            )
        if header.test_file:
            problems.append(
                Problem(
                    "test_file",
                    "Bradesco tells a test remessa by its file name (extension .TST), "
                    "not by a field of the file",
                )
            )
        return problems

    def _account(self, header: RemessaHeader) -> str:
        """Agência, its digit, conta, its digit and the blank ag/conta digit: 20 positions."""
        config = header.beneficiary
        return (
            num(config.agencia, 5, "agência")
            + alpha(header.agencia_dv or agencia_dv(config.agencia), 1)
            + num(config.conta, 12, "conta")
            + alpha(config.conta_dv, 1)
            # G012 is for banks whose account digit has two positions; Bradesco's has one.
            + blanks(1)
        )

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        # G007 is printed alphanumeric with no rule for a shorter code; numeric, right-aligned
        # with leading zeros, as the independent implementations write Bradesco's.
        return num(header.beneficiary.convenio, 20, "código do convênio") + self._account(header)

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        carteira = header.beneficiary.carteira
        match = _NOSSO_NUMERO.fullmatch(nosso_numero)
        if match is None:
            return f"Bradesco nosso número is printed CC/NNNNNNNNNNN-D, got {nosso_numero!r}"
        printed_carteira, number, dv = match.groups()
        if printed_carteira != carteira:
            return f"Bradesco nosso número {nosso_numero} is not of carteira {carteira}"
        expected = nosso_numero_dv(printed_carteira, number)
        if dv != expected:
            return f"Bradesco nosso número {nosso_numero} has check digit {dv}, expected {expected}"
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        registration = (
            "1"  # C006: cobrança simples (the manual: not the carteira, fill with an option)
            + "1"  # C007: com cadastramento, a registered title
            + "1"  # C008: tradicional (not handled by the bank, filled as asked)
            + "2"  # C009: the beneficiary issues the boleto (this product's PDF)
            + "2"  # C010: the beneficiary delivers it (by e-mail)
        )
        return self._account(header), registration

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return _nosso_numero_field(nosso_numero)

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:37] + _nosso_numero_field(nosso_numero)

    def interest_code(self, daily_interest_cents: int) -> str:
        # C018: 1 valor por dia, 3 isento. C019 asks for a juros date after the due date and
        # takes the due date when it is not; the writer sends the due date, the same day.
        return "1" if daily_interest_cents else "3"

    def title_tail(self) -> str:
        # C028 2 "não baixar/não devolver" is not handled by Bradesco, which then follows the
        # contract's own term; no days (C029); moeda 09 real (G065); contrato zeros (C030).
        return "2" + zeros(3) + "09" + zeros(10) + blanks(1)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        # 38-40 the carteira in 3 digits, 46-56 the number, 57 its digit. 41-45 are not read:
        # zeros in the layout, but the number and digit alone identify the title.
        carteira = cut(segment_t, 39, 40)
        return f"{carteira}/{cut(segment_t, 46, 56)}-{cut(segment_t, 57, 57)}"

    def outcome_name(self, code: str) -> str:
        return _OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        # C044: the motivos of 02, 03, 26 and 30 come from table C047-A; only in 03, 26 and 30
        # are they reasons for a refusal.
        return code in ("03", "26", "30")

    def reason_text(self, reason: str) -> str:
        return _REJECTIONS.get(reason, "")
