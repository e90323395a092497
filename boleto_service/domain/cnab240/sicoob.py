"""Sicoob (756) in CNAB 240: the workbook "Leiaute Cobrança Sicoob - Sistemas de Terceiro"
(Instruções para montagem e validação de boletos de cobrança, atualização 22/08/2017), sheets
"05.Remessa - Opção CNAB240" and "06.Retorno - Opção CNAB240" (file layout 081, lot layout 040).

Sicoob follows FEBRABAN's positions; what it asks of each block is below. The cooperativa's
prefixo goes where FEBRABAN has the agência and the conta corrente where it has the conta; the
código do cliente, which identifies the beneficiary on the boleto, appears nowhere in the file
but inside the nosso número's DV.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from ..banks.sicoob import (
    MODALIDADE,
    NOSSO_NUMERO_DIGITS,
    cooperativa_dv,
    nosso_numero_dv,
)
from ..errors import Problem
from .bank import FEBRABAN_MOVEMENTS, FEBRABAN_REJECTIONS, FebrabanLayout, Movement
from .fields import blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

# Segment P 16-17. The manual's remessa table lists 01 entrada, 02 solicitação de baixa and 06
# prorrogação de vencimento, but no abatimento code, while its retorno confirms one with 12;
# FEBRABAN's 04 (concessão de abatimento) is what the layout it follows defines for that.
_SICOOB_MOVEMENTS = {
    Movement.ENTRY: "01",
    Movement.WRITE_OFF: "02",
    Movement.REBATE: FEBRABAN_MOVEMENTS[Movement.REBATE],
    Movement.DUE_DATE: "06",
}

# Segment T 16-17, the manual's código de movimento retorno.
_SICOOB_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "04": ("OTHER", "Transferência de carteira: entrada"),
    "05": ("OTHER", "Transferência de carteira: baixa"),
    "06": ("PAID", "Liquidação"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "11": ("OTHER", "Título em carteira (em ser)"),
    "12": ("REBATE_GRANTED", "Instrução de abatimento recebida"),
    "13": ("OTHER", "Instrução de cancelamento do abatimento recebida"),
    "14": ("DUE_DATE_CHANGED", "Instrução de alteração de vencimento recebida"),
    "15": ("OTHER", "Franco de pagamento"),
    "17": ("PAID", "Liquidação após baixa ou de título não registrado"),
    "23": ("OTHER", "Remessa a cartório"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("INSTRUCTION_REJECTED", "Instrução rejeitada"),
    "27": ("OTHER", "Alteração de outros dados confirmada"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    # A refused alteração, such as a new due date, comes back as 30 rather than 26.
    "30": ("INSTRUCTION_REJECTED", "Alteração de dados rejeitada"),
    # A payment by cheque is announced as pending (50) and then confirmed (45) or reversed (44);
    # the manual does not say whether a 06 follows, so none of them is taken as the payment.
    "44": ("OTHER", "Título pago com cheque devolvido"),
    "45": ("OTHER", "Título pago com cheque compensado"),
    "50": ("OTHER", "Título pago com cheque pendente de compensação"),
}
_REJECTION_CODES = frozenset({"03", "26", "30"})

# Segment T 214-223. The manual refers the motivos to FEBRABAN's table and words only one
# rejection itself (11); these are the FEBRABAN motivos a file of this product can get. Its 52 is
# the unidade da federação, not Banco do Brasil's own 52.
_SICOOB_REJECTIONS = FEBRABAN_REJECTIONS | {
    "11": "Forma de cadastramento do título inválida",
    "12": "Tipo de documento inválido",
    "13": "Identificação da emissão do boleto inválida",
    "14": "Identificação da distribuição do boleto inválida",
    "15": "Características da cobrança incompatíveis",
    "23": "Aceite inválido",
    "25": "Data da emissão posterior à data de entrada",
    "28": "Código do desconto inválido",
    "33": "Valor do abatimento inválido",
    "34": "Valor do abatimento maior ou igual ao valor do título",
    "36": "Já existe abatimento concedido para o título",
    "42": "Código para baixa/devolução inválido",
    "43": "Prazo para baixa/devolução inválido",
    "52": "Unidade da federação inválida",
    "57": "Código da multa inválido",
    "58": "Data da multa inválida",
    "59": "Valor ou percentual da multa inválido",
    "60": "Movimento para título não cadastrado",
    "63": "Entrada de título já cadastrado",
    "79": "Data dos juros de mora inválida",
    "86": "Seu número inválido",
}

_PRINTED_NOSSO_NUMERO = re.compile(rf"(\d{{{NOSSO_NUMERO_DIGITS}}})-(\d)")
# Nosso número block, P/T 38-57, after the número do título: parcela "01" (a single boleto), the
# modalidade, and tipo de formulário 4 (A4 sem envelopamento, as this product's PDF prints).
_NOSSO_NUMERO_TAIL = "01" + MODALIDADE + "4" + blanks(5)


def _nosso_numero_field(nosso_numero: str) -> str:
    """Segment P 38-57: the número do título (the nosso número and its DV in 10 digits), then
    parcela, modalidade and formulário."""
    number, dv = nosso_numero.split("-")
    return num(number + dv, 10, "número do título") + _NOSSO_NUMERO_TAIL


class Sicoob(FebrabanLayout):
    code = "756"
    file_name = "SICOOB"
    file_layout = "081"
    lot_layout = "040"
    lot_header_12_13 = blanks(2)
    document_number_width = 15
    payer_name_width = 40
    especie = "02"
    collecting_agency_dv = " "
    reason_slots = 5
    writes_lot_totals = True

    def movement_code(self, movement: Movement) -> str:
        return _SICOOB_MOVEMENTS[movement]

    def header_problems(self, header: RemessaHeader) -> list[Problem]:
        # The prefixo's DV is computed; one typed in for the remessa must agree with it.
        given = header.agencia_dv
        expected = str(cooperativa_dv(header.beneficiary.agencia))
        if given and given != expected:
            return [
                Problem(
                    "agencia_dv",
                    f"Sicoob cooperativa {header.beneficiary.agencia} has DV {expected}, "
                    f"got {given!r} (it can be left empty)",
                )
            ]
        return []

    def _account(self, header: RemessaHeader) -> str:
        """Prefixo da cooperativa (5), its DV, conta corrente (12) and its DV: 19 characters."""
        config = header.beneficiary
        return (
            num(config.agencia, 5, "cooperativa")
            + str(cooperativa_dv(config.agencia))
            + num(config.conta, 12, "conta corrente")
            + num(config.conta_dv, 1, "conta corrente DV")
        )

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        # The convênio is left blank; the manual asks zeros for the agência/conta DV in the file
        # header and a blank in the lot header.
        return blanks(20) + self._account(header) + (" " if in_lot else "0")

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        config = header.beneficiary
        match = _PRINTED_NOSSO_NUMERO.fullmatch(nosso_numero)
        if match is None:
            return f"Sicoob nosso número is printed NNNNNNN-D, got {nosso_numero!r}"
        number, dv = match.groups()
        expected = nosso_numero_dv(config.agencia, config.codigo_beneficiario, number)
        if int(dv) != expected:
            return (
                f"Sicoob nosso número {nosso_numero} has DV {dv}, expected {expected} for "
                f"cooperativa {config.agencia} and código do cliente {config.codigo_beneficiario}"
            )
        return None

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        registration = (
            header.beneficiary.carteira
            + "0"  # forma de cadastramento, as the manual fills it
            + blanks(1)  # tipo de documento
            + "2"  # emissão: the beneficiary prints the boleto (this product's PDF)
            + "2"  # distribuição: the beneficiary delivers it (by e-mail)
        )
        return self._account(header) + blanks(1), registration  # blank: DV of agência/conta

    def nosso_numero_field(self, nosso_numero: str) -> str:
        return _nosso_numero_field(nosso_numero)

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:37] + _nosso_numero_field(nosso_numero)

    def interest_code(self, daily_interest_cents: int) -> str:
        return "1" if daily_interest_cents else "0"  # valor por dia; 0 is isento

    def default_fine_date(self, due_date: date) -> date:
        # The manual asks for the due date as the multa's date, as it does for the juros'.
        return due_date

    def title_tail(self) -> str:
        # 224 baixa code "0" and 225-227 days in blanks, moeda 09 (real), contrato zeros.
        return "0" + blanks(3) + "09" + zeros(10) + blanks(1)

    def retorno_nosso_numero(self, segment_t: str) -> str:
        # The número do título is 10 digits: two leading zeros, then the 7 digits and the DV.
        titulo = cut(segment_t, 38, 47).strip()
        if not titulo:
            return ""  # a boleto Sicoob itself numbered and printed
        number, dv = titulo[:-1], titulo[-1]
        if number[:-NOSSO_NUMERO_DIGITS].strip("0") == "":
            number = number[-NOSSO_NUMERO_DIGITS:].zfill(NOSSO_NUMERO_DIGITS)
        return f"{number}-{dv}"

    def outcome_name(self, code: str) -> str:
        return _SICOOB_OCCURRENCES.get(code, ("OTHER", ""))[0]

    def describe(self, code: str) -> str:
        return _SICOOB_OCCURRENCES.get(code, ("OTHER", f"Ocorrência {code}"))[1]

    def is_rejection(self, code: str) -> bool:
        return code in _REJECTION_CODES

    def reason_text(self, reason: str) -> str:
        return _SICOOB_REJECTIONS.get(reason, "")
