"""Everything printed on one boleto, as text and integer centavos, ready for any renderer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from ..domain.beneficiary import BeneficiaryConfig
from ..domain.boleto import Boleto, PayerAddress
from ..domain.checkdigits import mod11_remainder
from ..domain.cnpj import format_cnpj
from ..domain.linha_digitavel import linha_to_barcode
from ..domain.money import format_reais

# The instruction areas of the layout hold this many lines; more would be silently lost.
MAX_INSTRUCTION_LINES = 5
PAYMENT_PLACE = "Pagável em qualquer banco até o vencimento"


class PayerIdKind(IntEnum):
    """What the payer's government id is; values match boletos.v1.GovernmentIdKind."""

    OTHER = 1
    CPF = 2
    CNPJ = 3


# Sicredi prints a result of 10 as X, where every other bank prints 0.
_DV_TEN_AS_X = frozenset({"748"})


def bank_code_with_dv(bank_code: str) -> str:
    """The bank code as printed beside the logo: '001-9', '341-7', '104-0', '748-X'.

    Modulo 11 with weights 2..9 from the right; a result of 10 or 11 prints as 0.
    """
    dv = 11 - mod11_remainder(bank_code)
    if dv == 10 and bank_code in _DV_TEN_AS_X:
        return f"{bank_code}-X"
    return f"{bank_code}-{0 if dv >= 10 else dv}"


def address_text(address: PayerAddress | None) -> str:
    """The payer's address on one line, as the Pagador block prints it; accents kept."""
    if address is None:
        return ""
    district = f" - {address.district}" if address.district else ""
    return f"{address.street}{district} - CEP {address.cep_formatted} - {address.city}/{address.uf}"


def format_cpf(cpf: str) -> str:
    return f"{cpf[0:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:11]}"


def format_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def payer_id_text(government_id: str, kind: int) -> str:
    """The payer's id with what it is: 'CPF 123.456.789-09', or as given when not a CPF/CNPJ."""
    value = government_id.strip()
    if kind == PayerIdKind.CPF and len(value) == 11 and value.isdigit():
        return f"CPF {format_cpf(value)}"
    if kind == PayerIdKind.CNPJ and len(value) == 14 and value.isalnum():
        return f"CNPJ {format_cnpj(value.upper())}"
    return f"Identificação {value}"


def overdue_instructions(
    original_due_date: date,
    due_date: date,
    days_overdue: int,
    principal_cents: int,
    fine_cents: int,
    interest_cents: int,
) -> tuple[str, ...]:
    """The lines that explain a re-dated debt's new amount to the payer."""
    total = principal_cents + fine_cents + interest_cents
    return (
        f"Débito vencido em {format_date(original_due_date)}, "
        f"reemitido com vencimento em {format_date(due_date)}.",
        f"Valor original R$ {format_reais(principal_cents)} + multa R$ {format_reais(fine_cents)}"
        f" + juros de mora R$ {format_reais(interest_cents)} ({days_overdue} dias)"
        f" = R$ {format_reais(total)}.",
    )


def _amount(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int of centavos, got {value!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class BoletoDocument:
    """A boleto's printed content. Amounts are int centavos; texts are as printed."""

    bank_code: str
    bank_name: str
    beneficiary_name: str
    beneficiary_cnpj: str  # formatted, '11.222.333/0001-81'
    agencia_codigo: str  # 'Agência / Código do Beneficiário' as printed
    payer_name: str
    payer_id: str  # with its kind, 'CPF 123.456.789-09'
    payer_address: str = ""  # one line; empty when the file gave none
    nosso_numero: str
    numero_documento: str
    carteira: str
    especie: str = "R$"
    especie_documento: str = "DM"
    aceite: str = "N"
    payment_place: str = PAYMENT_PLACE
    issue_date: date
    due_date: date
    original_due_date: date
    principal_cents: int
    fine_cents: int
    interest_cents: int
    total_cents: int
    linha_digitavel: str  # formatted, '00190.00009 01234.567004 ...'
    barcode: str  # 44 digits
    instructions: tuple[str, ...] = ()
    # Printed as a QR code beside the barcode; empty prints none.
    pix_payload: str = ""

    def __post_init__(self) -> None:
        for name in ("principal_cents", "fine_cents", "interest_cents", "total_cents"):
            _amount(getattr(self, name), name)
        if self.total_cents != self.principal_cents + self.fine_cents + self.interest_cents:
            raise ValueError(
                f"total {self.total_cents} is not principal + fine + interest "
                f"({self.principal_cents} + {self.fine_cents} + {self.interest_cents})"
            )
        # The scanner reads the barcode and the payer may type the line: both must say the same.
        if linha_to_barcode(self.linha_digitavel) != self.barcode:
            raise ValueError("the linha digitável does not encode the barcode")
        if int(self.barcode[9:19]) != self.total_cents:
            raise ValueError(
                f"the barcode charges {int(self.barcode[9:19])} centavos, "
                f"the document {self.total_cents}"
            )
        if not isinstance(self.instructions, tuple):
            raise TypeError("instructions must be a tuple of lines")
        if len(self.instructions) > MAX_INSTRUCTION_LINES:
            raise ValueError(
                f"at most {MAX_INSTRUCTION_LINES} instruction lines fit, "
                f"got {len(self.instructions)}"
            )

    @property
    def bank_code_printed(self) -> str:
        return bank_code_with_dv(self.bank_code)

    @classmethod
    def of(
        cls, boleto: Boleto, config: BeneficiaryConfig, extra_instructions: Sequence[str] = ()
    ) -> BoletoDocument:
        """The document for an issued boleto; an overdue debt's explains its charges."""
        charges = boleto.charges
        instructions: tuple[str, ...] = ()
        if charges.is_overdue:
            instructions = overdue_instructions(
                charges.original_due_date,
                charges.due_date,
                charges.days_overdue,
                charges.principal_cents,
                charges.fine_cents,
                charges.interest_cents,
            )
        numbers, payer, bank = boleto.numbers, boleto.payer, config.bank
        # The debt's own id does not fit the bank's 10 to 15 positions: the remessa sends the
        # boleto's sequence as the document number, and the PDF must print the same.
        reference: tuple[str, ...] = (f"Referência do débito: {boleto.debt_id}",)
        discount = boleto.offered_discount
        if discount is not None:
            reference = (
                f"Desconto de R$ {format_reais(discount.cents)} para pagamento até "
                f"{format_date(discount.until)}.",
                *reference,
            )
        return cls(
            bank_code=numbers.bank_code,
            bank_name=bank.name,
            beneficiary_name=config.name,
            beneficiary_cnpj=config.cnpj_formatted,
            agencia_codigo=bank.agencia_codigo(config),
            payer_name=payer.name.strip(),
            payer_id=payer_id_text(payer.government_id, payer.government_id_kind),
            nosso_numero=numbers.nosso_numero,
            payer_address=address_text(payer.address),
            numero_documento=str(boleto.sequence),
            carteira=bank.printed_carteira(config),
            especie_documento=bank.especie_documento,
            issue_date=boleto.issue_date,
            due_date=charges.due_date,
            original_due_date=charges.original_due_date,
            principal_cents=charges.principal_cents,
            fine_cents=charges.fine_cents,
            interest_cents=charges.interest_cents,
            total_cents=charges.total_cents,
            linha_digitavel=numbers.linha_digitavel_formatted,
            barcode=numbers.barcode,
            instructions=instructions + tuple(extra_instructions) + reference,
            pix_payload=numbers.pix_payload,
        )
