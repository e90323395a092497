"""Where Banco do Brasil (001) and Itaú (341) part from the FEBRABAN CNAB 240 cobrança layout.

Every position here was read in the bank's own manual (see /tmp/notes/helper_cnab.md):
- BB: "Particularidades BB - Leiaute CNAB 240", Agosto/2017 (file layout 083, lot layout 042).
- Itaú: "Cobrança Bancária - Layout de Arquivos FEBRABAN 240", Janeiro/2017 (040 / 030).
Everything not listed here is written the same for both banks by remessa.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from ..banks.itau import nosso_numero_dac
from ..errors import Problem, UnknownBank
from .fields import alpha, blanks, cut, num, zeros

if TYPE_CHECKING:
    from .remessa import RemessaHeader


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
        """REGISTERED, REJECTED, PAID, WRITTEN_OFF or OTHER for an occurrence code."""
        ...

    def describe(self, code: str) -> str: ...

    def is_rejection(self, code: str) -> bool:
        """Whether the motivos of this occurrence are rejection reasons."""
        ...

    def reason_text(self, reason: str) -> str: ...


# FEBRABAN table C047 (rejection motivos), the codes Banco do Brasil follows; BB replaces 52.
_FEBRABAN_REJECTIONS = {
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

_BB_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "06": ("PAID", "Liquidação"),
    "09": ("WRITTEN_OFF", "Baixa"),
    "11": ("OTHER", "Título em carteira (em ser)"),
    "14": ("OTHER", "Confirmação de alteração de vencimento"),
    "17": ("PAID", "Liquidação após baixa ou de título não registrado"),
    "25": ("WRITTEN_OFF", "Protestado e baixado"),
    "26": ("OTHER", "Instrução rejeitada"),
    "28": ("OTHER", "Débito de tarifas/custas"),
    "30": ("OTHER", "Alteração de dados rejeitada"),
}

# Itaú's own numbering: its 17 is a rejected change, not FEBRABAN's "liquidação após baixa", and
# its 10 (baixa por ter sido liquidado) follows a 06 that already reported the payment.
_ITAU_OCCURRENCES = {
    "02": ("REGISTERED", "Entrada confirmada"),
    "03": ("REJECTED", "Entrada rejeitada"),
    "06": ("PAID", "Liquidação normal"),
    "08": ("PAID", "Liquidação em cartório"),
    "09": ("WRITTEN_OFF", "Baixa simples"),
    "10": ("OTHER", "Baixa por ter sido liquidado"),
    "15": ("OTHER", "Baixa rejeitada"),
    "16": ("OTHER", "Instrução rejeitada"),
    "17": ("OTHER", "Alteração/exclusão de dados rejeitada"),
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


class BancoDoBrasil:
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

    def file_header_tail(self) -> str:
        return blanks(69)

    def nosso_numero_problem(self, header: RemessaHeader, nosso_numero: str) -> str | None:
        convenio = header.beneficiary.convenio
        if not (nosso_numero.isascii() and nosso_numero.isdigit() and len(nosso_numero) == 17):
            return f"BB nosso número has 17 digits (7-digit convênio), got {nosso_numero!r}"
        if not nosso_numero.startswith(convenio):
            return f"BB nosso número {nosso_numero} does not start with convênio {convenio}"
        return None

    def title_block(self, header: RemessaHeader, nosso_numero: str) -> str:
        config = header.beneficiary
        # C006: BB's manual gives 7 for carteira 17 simples; 18 takes FEBRABAN's 1 (simples).
        carteira_code = "7" if config.carteira == "17" else "1"
        return (
            num(config.agencia, 5, "agência")
            + alpha(header.agencia_dv, 1)
            + num(config.conta, 12, "conta")
            + alpha(config.conta_dv, 1)
            + blanks(1)
            + alpha(nosso_numero, 20)  # left-aligned with blanks, as BB asks
            + carteira_code
            + "1"  # forma de cadastramento: com registro
            + "1"  # tipo de documento: tradicional
            + "2"  # emissão: the beneficiary prints the boleto (this product's PDF)
            + "2"  # distribuição: the beneficiary delivers it (by e-mail)
        )

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
        return _FEBRABAN_REJECTIONS.get(reason, "")


_ITAU_NOSSO_NUMERO = re.compile(r"(\d{3})/(\d{8})-(\d)")


class Itau:
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

    def file_header_tail(self) -> str:
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

    def title_block(self, header: RemessaHeader, nosso_numero: str) -> str:
        carteira, rest = nosso_numero.split("/")
        number, dac = rest.split("-")
        return (
            self.company_block(header, in_lot=True)[20:]
            + carteira
            + number
            + dac
            + blanks(8)
            + zeros(5)
        )

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


_REGISTERED: tuple[CnabBank, ...] = (BancoDoBrasil(), Itau())
CNAB_BANKS: Mapping[str, CnabBank] = MappingProxyType({bank.code: bank for bank in _REGISTERED})


def cnab_bank_for(code: str) -> CnabBank:
    try:
        return CNAB_BANKS[code]
    except KeyError:
        known = ", ".join(sorted(CNAB_BANKS))
        raise UnknownBank(f"no CNAB 240 layout for bank {code!r}; known: {known}") from None
