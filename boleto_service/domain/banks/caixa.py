"""Caixa Econômica Federal (104), SIGCB cobrança registrada printed by the beneficiary.

Rules from Caixa's "Especificações Técnicas para Emissão de Boletos - Cobrança Bancária CAIXA -
SIGCB" (67.119 v010, Abril/2020).

The beneficiary's fields, in Caixa's terms:
- `agencia`: the agência centralizadora of the convênio (4 digits), printed "AAAA / CCCCCC-D"
  together with the código do beneficiário;
- `codigo_beneficiario`: the código do beneficiário (the "código do cedente", which some call the
  convênio), 6 digits from 000001 to 999999; its DV is computed here, never configured;
- `carteira`: "14", the SIGCB modalidade: 1 = registrada, 4 = boleto emitted by the beneficiary
  (the boleto's "Carteira" box prints RG);
- `conta` / `conta_dv`: the beneficiary's conta corrente, which every beneficiary has but which
  neither the barcode nor the CNAB 240 files carry;
- `convenio` and `posto`: not used, left empty.

Nosso número: "14" + the sequence in 15 digits, then "-" and its DV: 14NNNNNNNNNNNNNNN-D.
Campo livre: código do beneficiário (6) + its DV + nosso número digits 3-5 + "1" + digits 6-8 +
"4" + digits 9-17 + the DV of those 24 digits. The constants 1 and 4 are the nosso número's first
two digits, which Caixa moves between the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checkdigits import mod11_remainder
from ..errors import Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

CODIGO_BENEFICIARIO_DIGITS = 6
SEQUENCE_DIGITS = 15
# Modalidade 1 (registrada) and emission 4 (by the beneficiary). 11 is the same title printed by
# Caixa, which this product never asks for; 21 and 24 are the retired unregistered carteiras.
CARTEIRA = "14"
# Codes from 1100000 take seven barcode positions and no DV (67.119 v010, Nota 3), but the CNAB 240
# layout this product writes (67.118 v010) has six positions for the código: such beneficiaries
# need that layout's newer version before they can be supported.
FIRST_SEVEN_DIGIT_CODIGO = 1_100_000


def caixa_dv(digits: str) -> int:
    """Caixa's modulo 11 DV (nosso número, código do beneficiário, campo livre): 11 - remainder
    with weights 2..9 from the right, and 0 where that exceeds 9.

    Unlike the barcode's general DV, which never prints 0 and turns those cases into 1.
    """
    dv = 11 - mod11_remainder(digits)
    return 0 if dv > 9 else dv


def nosso_numero_digits(sequence: int) -> str:
    """The 17 digits of the nosso número of boleto `sequence`, without its DV."""
    return CARTEIRA + ensure_sequence(sequence, SEQUENCE_DIGITS, Caixa.name)


def printed_nosso_numero(digits: str) -> str:
    return f"{digits}-{caixa_dv(digits)}"


def campo_livre_for(codigo_beneficiario: str, nosso_numero: str) -> str:
    """The 25 digits for a 6-digit código and the 17 digits of a nosso número."""
    body = (
        codigo_beneficiario
        + str(caixa_dv(codigo_beneficiario))
        + nosso_numero[2:5]
        + nosso_numero[0]
        + nosso_numero[5:8]
        + nosso_numero[1]
        + nosso_numero[8:17]
    )
    return body + str(caixa_dv(body))


class Caixa(PrintedAsAgenciaConta):
    code = "104"
    name = "Caixa Econômica Federal"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        codigo_problem = _codigo_beneficiario_problem(config.codigo_beneficiario)
        if codigo_problem:
            problems.append(Problem("codigo_beneficiario", codigo_problem))
        if config.carteira != CARTEIRA:
            problems.append(
                Problem(
                    "carteira",
                    f"Caixa carteira must be {CARTEIRA}, the SIGCB modalidade for registered "
                    f"boletos printed by the beneficiary (carteira RG), got {config.carteira!r}",
                )
            )
        if config.convenio:
            problems.append(
                Problem(
                    "convenio",
                    "Caixa has no convênio apart from the código do beneficiário: set "
                    f"codigo_beneficiario and leave convenio empty, got {config.convenio!r}",
                )
            )
        if config.posto:
            problems.append(
                Problem("posto", f"Caixa has no posto; leave it empty, got {config.posto!r}")
            )
        return problems

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        return campo_livre_for(config.codigo_beneficiario, nosso_numero_digits(sequence))

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        return printed_nosso_numero(nosso_numero_digits(sequence))

    # What the boleto prints in its "Carteira" and "Agência / Código do Beneficiário" boxes
    # (67.119 v010, 4.2.5.2 and 4.2.3.2), which are not the generic carteira and conta.
    def printed_carteira(self, config: BeneficiaryConfig) -> str:
        return "RG"

    def agencia_codigo(self, config: BeneficiaryConfig) -> str:
        codigo = config.codigo_beneficiario
        return f"{config.agencia} / {codigo}-{caixa_dv(codigo)}"


def _codigo_beneficiario_problem(codigo: str) -> str | None:
    if not codigo:
        return "Caixa needs the código do beneficiário (6 digits, given by the agência), got none"
    if is_digits(codigo, 7, 7) and int(codigo) >= FIRST_SEVEN_DIGIT_CODIGO:
        return (
            f"Caixa código do beneficiário {codigo} has 7 digits; only the 6-digit codes "
            "(000001 to 999999) of the SIGCB CNAB 240 layout are supported"
        )
    if not is_digits(codigo, CODIGO_BENEFICIARIO_DIGITS, CODIGO_BENEFICIARIO_DIGITS):
        return (
            f"Caixa código do beneficiário must have {CODIGO_BENEFICIARIO_DIGITS} digits "
            f"(pad with leading zeros), got {codigo!r}"
        )
    if int(codigo) == 0:
        return "Caixa código do beneficiário must be 000001 to 999999, got 000000"
    return None
