"""What a bank's CNAB 240 cobrança layout must say where it parts from FEBRABAN's.

Each bank's module holds the positions read in that bank's own manual; everything not asked of a
bank here is written the same for all of them by remessa.py and read the same by retorno.py.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Protocol

from ..errors import Problem

if TYPE_CHECKING:
    from .remessa import RemessaHeader


class Movement(Enum):
    """What a remessa asks of the bank for one title (segment P 16-17, FEBRABAN table C004)."""

    ENTRY = "entrada de título"
    WRITE_OFF = "pedido de baixa"
    REBATE = "concessão de abatimento"
    DUE_DATE = "alteração de vencimento"


class CnabBank(Protocol):
    code: str
    file_name: str  # "nome do banco", file header 103-132
    file_layout: str  # file header 164-166
    lot_layout: str  # lot header 14-16
    lot_header_12_13: str
    document_number_width: int  # "seu número", segment P from 63
    payer_name_width: int  # segment Q from 34
    especie: str  # segment P 107-108: duplicata mercantil, as the PDF prints "DM"
    collecting_agency_dv: str  # segment P 106
    reason_slots: int  # two-character motivos in segment T from 214
    writes_lot_totals: bool  # cobrança simples count and sum in the lot trailer 24-46

    def header_problems(self, header: RemessaHeader) -> list[Problem]: ...

    def movement_code(self, movement: Movement) -> str:
        """Segment P/Q/R 16-17: the bank's code for `movement` in a remessa."""
        ...

    def company_block(self, header: RemessaHeader, *, in_lot: bool) -> str:
        """File header 33-72 and lot header 34-73: convênio and account, 40 characters."""
        ...

    def file_header_tail(self) -> str:
        """File header 172-240."""
        ...

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None: ...

    def title_block(self, header: RemessaHeader, nosso_numero: str) -> str:
        """Segment P 18-62: account, nosso número and how the title is registered."""
        ...

    def interest_code(self, daily_interest_cents: int) -> str:
        """Segment P 118."""
        ...

    def title_tail(self) -> str:
        """Segment P 224-240: baixa instructions, currency, contract."""
        ...

    def retorno_nosso_numero(self, segment_t: str) -> str:
        """The nosso número of a segment T, spelled as the boleto prints it."""
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


# FEBRABAN table C004, which every bank here follows for these four movements.
FEBRABAN_MOVEMENTS = {
    Movement.ENTRY: "01",
    Movement.WRITE_OFF: "02",
    Movement.REBATE: "04",
    Movement.DUE_DATE: "06",
}
