"""What a bank's CNAB 240 cobrança layout must say where it parts from FEBRABAN's.

Each bank's module holds the positions read in that bank's own manual; everything not asked of a
bank here is written the same for all of them by remessa.py and read the same by retorno.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from ..errors import Problem
from .fields import alpha, blanks, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader

Span = tuple[int, int]  # 1-based, inclusive, as the manuals print positions


class Movement(Enum):
    """What a remessa asks of the bank for one title (segment P 16-17, FEBRABAN table C004)."""

    ENTRY = "entrada de título"
    WRITE_OFF = "pedido de baixa"
    REBATE = "concessão de abatimento"
    DUE_DATE = "alteração de vencimento"


class PayerProblem(Enum):
    """Why a bank refuses to register a title for its payer (segment Q), whatever code its
    retorno gives the refusal (`CnabBank.reason_code`): what a simulated bank checks."""

    INSCRIPTION = "tipo/número de inscrição do pagador inválidos"  # check digits, tipo 1 or 2
    CEP = "CEP inválido"  # eight digits no post office uses
    CEP_NOT_NUMERIC = "CEP não numérico"


@dataclass(frozen=True, slots=True)
class SegmentT:
    """Where a retorno's segment T holds each field of a title.

    The reader takes seu número, vencimento, valor nominal, tarifa and motivos from here, and a
    simulated bank writes every field here, so both agree with the bank's manual at once. The
    title block (account and nosso número, `CnabBank.retorno_title_block`) runs from 18 to the
    position before the carteira.
    """

    carteira: int
    document_number: Span  # seu número; a bank reads `document_number_width` of it
    due_date: Span
    face_value: Span
    company_use: Span  # identificação do título na empresa, echoed from segment P 196-220
    payer: Span  # tipo and número de inscrição and name, echoed from segment Q 18-73
    fee: Span  # tarifa/custas
    reasons: Span  # motivos; a bank reads `reason_slots` two-character codes from the start


FEBRABAN_SEGMENT_T = SegmentT(
    carteira=58,
    document_number=(59, 73),
    due_date=(74, 81),
    face_value=(82, 96),
    company_use=(106, 130),
    payer=(133, 188),
    fee=(199, 213),
    reasons=(214, 223),
)


class CnabBank(Protocol):
    code: str
    file_name: str  # "nome do banco", file header 103-132
    file_layout: str  # file header 164-166
    lot_layout: str  # lot header 14-16
    lot_header_12_13: str
    document_number_width: int  # "seu número", segment P from 63
    payer_name_width: int  # segment Q from 34
    especie: str  # segment P 107-108: the espécie the boleto prints (Bank.especie_documento)
    collecting_agency_dv: str  # segment P 106
    reason_slots: int  # two-character motivos in segment T, from `segment_t.reasons`
    writes_lot_totals: bool  # cobrança simples count and sum in the lot trailer 24-46
    density: str  # file header 167-171
    lot_header_200_207: str
    no_protest_code: str  # segment P 221
    segment_q_213_240: str
    segment_r_42_65: str  # desconto 3
    segment_r_200_240: str  # débito automático
    lot_trailer_93_115: str  # cobrança descontada, when the trailer has totals
    file_trailer_30_35: str
    segment_t: SegmentT

    def header_problems(self, header: RemessaHeader) -> list[Problem]: ...

    def movement_code(self, movement: Movement) -> str:
        """Segment P/Q/R 16-17: the bank's code for `movement` in a remessa."""
        ...

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        """File header 33-72 and lot header 34-73: convênio and account, 40 characters."""
        ...

    def file_header_inscription(self, header: RemessaHeader) -> str:
        """File header 9-32: the reserved blanks, then the beneficiary's tipo and CNPJ."""
        ...

    def generation_time(self, header: RemessaHeader) -> str:
        """File header 152-157."""
        ...

    def file_header_tail(self, header: RemessaHeader) -> str:
        """File header 172-240."""
        ...

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None: ...

    def title_block(self, header: RemessaHeader, nosso_numero: str) -> str:
        """Segment P 18-62: account, nosso número and how the title is registered."""
        ...

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        """Segment P 18-62 but the nosso número: the account before it and how the title is
        registered after it, the same for every title of a file."""
        ...

    def nosso_numero_field(self, nosso_numero: str) -> str:
        """The nosso número as segment P writes it, between `title_block_around`'s two."""
        ...

    def interest_code(self, daily_interest_cents: int) -> str:
        """Segment P 118."""
        ...

    def interest_start(self, due_date: date) -> date:
        """Segment P 119-126: the day mora starts for a title due on `due_date`."""
        ...

    def default_fine_date(self, due_date: date) -> date:
        """Segment R 67-74 for a title with a fine and no date of its own."""
        ...

    def title_tail(self) -> str:
        """Segment P 224-240: baixa instructions, currency, contract."""
        ...

    def retorno_nosso_numero(self, segment_t: str) -> str:
        """The nosso número of a segment T, spelled as the boleto prints it."""
        ...

    def retorno_title_block(self, segment_p: str) -> str:
        """Segment T from 18 to the position before `segment_t.carteira`, as the bank returns
        the title of `segment_p` there; for a simulated bank building a retorno."""
        ...

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        """Segment P 18-57 for another title of the account of `segment_p`, whose nosso número
        the boleto prints as `nosso_numero`; for a simulated bank reporting titles it never
        received."""
        ...

    def outcome_name(self, code: str) -> str:
        """The `retorno.Outcome` name of an occurrence code: REGISTERED, REJECTED, PAID,
        WRITTEN_OFF, DUE_DATE_CHANGED, REBATE_GRANTED, INSTRUCTION_REJECTED or OTHER."""
        ...

    def describe(self, code: str) -> str: ...

    def is_rejection(self, code: str) -> bool:
        """Whether the motivos of this occurrence are rejection reasons."""
        ...

    def reason_text(self, reason: str) -> str: ...

    def reason_code(self, problem: PayerProblem) -> str:
        """The motivo this bank's retorno gives an entry rejected for `problem`."""
        ...


# FEBRABAN table C047 (rejection motivos), the codes Banco do Brasil follows; BB replaces 52.
FEBRABAN_REJECTIONS = {
    "01": "Código do banco inválido",
    "02": "Código do registro detalhe inválido",
    "03": "Código do segmento inválido",
    "04": "Código de movimento não permitido para carteira",
    "05": "Código de movimento inválido",
    "06": "Tipo/número de inscrição do beneficiário inválidos",
    "07": "Agência/conta/DV inválido",
    "08": "Nosso número inválido",
    "09": "Nosso número duplicado",
    "10": "Carteira inválida",
    "16": "Data de vencimento inválida",
    "17": "Data de vencimento anterior à data de emissão",
    "18": "Vencimento fora do prazo de operação",
    "20": "Valor do título inválido",
    "21": "Espécie do título inválida",
    "24": "Data da emissão inválida",
    "26": "Código de juros de mora inválido",
    "27": "Valor/taxa de juros de mora inválido",
    "44": "Código da moeda inválido",
    "45": "Nome do pagador não informado",
    "46": "Tipo/número de inscrição do pagador inválidos",
    "47": "Endereço do pagador não informado",
    "48": "CEP inválido",
    "49": "CEP sem praça de cobrança",
    "51": "CEP incompatível com a unidade da federação",
    "52": "Registro de título já liquidado (carteira 17)",
}


# C047's motivos for a payer refused; a bank with codes of its own overrides reason_code.
FEBRABAN_PAYER_REASONS = {
    PayerProblem.INSCRIPTION: "46",
    PayerProblem.CEP: "48",
    PayerProblem.CEP_NOT_NUMERIC: "48",
}


# FEBRABAN table C004, which every bank here follows for these four movements.
FEBRABAN_MOVEMENTS = {
    Movement.ENTRY: "01",
    Movement.WRITE_OFF: "02",
    Movement.REBATE: "04",
    Movement.DUE_DATE: "06",
}


class FebrabanLayout:
    """FEBRABAN's choice for every field a bank's manual may move or fill otherwise.

    A bank's class inherits it and overrides only what its own manual changes, so FEBRABAN's
    defaults are written once.
    """

    density = zeros(5)  # densidade de gravação
    lot_header_200_207 = zeros(8)  # data do crédito: a retorno field
    no_protest_code = "3"  # C026
    # Nosso número no banco correspondente (213-232) and FEBRABAN's reserve (233-240).
    segment_q_213_240 = blanks(28)
    segment_r_42_65 = "0" + zeros(8) + zeros(15)  # no third discount: code, date, value
    # Ocorrências do pagador, then the account of a débito automático: none.
    segment_r_200_240 = zeros(16) + blanks(1) + zeros(12) + blanks(2) + "0" + blanks(9)
    lot_trailer_93_115 = zeros(6) + zeros(17)  # cobrança descontada: count and value
    file_trailer_30_35 = zeros(6)  # contas para conciliação
    segment_t = FEBRABAN_SEGMENT_T

    def file_header_inscription(self, header: RemessaHeader) -> str:
        # The beneficiary is a company: tipo 2, CNPJ.
        return blanks(9) + "2" + num(header.beneficiary.cnpj, 14, "CNPJ")

    def generation_time(self, header: RemessaHeader) -> str:
        return header.generated_at.strftime("%H%M%S")

    def file_header_tail(self, header: RemessaHeader) -> str:
        # Reservado banco (172-191), reservado empresa (192-211), uso FEBRABAN (212-240).
        return blanks(69)

    def interest_start(self, due_date: date) -> date:
        # Mora from the due date itself: BB has no grace period and Itaú assumes it anyway.
        return due_date

    def default_fine_date(self, due_date: date) -> date:
        return due_date + timedelta(days=1)

    def title_block(self, header: RemessaHeader, nosso_numero: str) -> str:
        account, registration = self.title_block_around(header)
        return account + self.nosso_numero_field(nosso_numero) + registration

    def title_block_around(self, header: RemessaHeader) -> tuple[str, str]:
        raise NotImplementedError  # every bank's account and registration codes are its own

    def nosso_numero_field(self, nosso_numero: str) -> str:
        raise NotImplementedError

    def retorno_title_block(self, segment_p: str) -> str:
        return segment_p[17:57]

    def nosso_numero_block(self, segment_p: str, nosso_numero: str) -> str:
        return segment_p[17:37] + alpha(nosso_numero, 20)

    def reason_code(self, problem: PayerProblem) -> str:
        return FEBRABAN_PAYER_REASONS[problem]
