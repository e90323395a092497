"""Santander (033), "Código de Barras - Cobrança" Versão 3.1, Janeiro/2017; prints as 033-7.

Campo livre: '9' + código do beneficiário (7) + nosso número (12) + its DV + IOF '0' +
carteira (3). Nosso número: 12 digits and a modulo 11 DV (weights 2..9; remainders 0 and 1
give 0), printed 'NNNNNNNNNNNN-D'.

Which `BeneficiaryConfig` field carries which of Santander's terms:
- `codigo_beneficiario`: the código do beneficiário (the "código do cliente" or PSK that
  Santander gives for the cobrança contract), 7 digits; it is what the barcode identifies.
- `agencia`: the agência of the account, 4 digits; with the código do beneficiário it forms
  the "Agência / Código do Beneficiário" box and the remessa's código de transmissão.
- `conta` and `conta_dv`: the conta corrente (up to 9 digits) and its digit, only written in
  the remessa.
- `carteira`: the "tipo de modalidade" printed at the end of the barcode: 101 (cobrança simples
  rápida com registro), 102 (cobrança simples sem registro) or 201 (penhor rápida com registro).
- `convenio` and `posto` are not used and must be empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checkdigits import mod11_remainder
from ..errors import Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

NOSSO_NUMERO_DIGITS = 12
CODIGO_BENEFICIARIO_DIGITS = 7
CONTA_DIGITS = 9
# The barcode manual describes 101; 102 and 201 share its campo livre and differ only in how
# the remessa registers them (see cnab240/santander.py).
SUPPORTED_CARTEIRAS = ("101", "102", "201")
# Only insurers (seguradoras) put their IOF rate here; every other beneficiary writes 0.
IOF = "0"


def nosso_numero_dv(number: str) -> int:
    """Modulo 11 with weights 2..9 from the right; remainders 0 and 1 both give 0."""
    remainder = mod11_remainder(number)
    return 0 if remainder in (0, 1) else 11 - remainder


def printed_nosso_numero(number: str) -> str:
    return f"{number}-{nosso_numero_dv(number)}"


class Santander(PrintedAsAgenciaConta):
    code = "033"
    name = "Santander"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        if not is_digits(
            config.codigo_beneficiario, CODIGO_BENEFICIARIO_DIGITS, CODIGO_BENEFICIARIO_DIGITS
        ):
            problems.append(
                Problem(
                    "codigo_beneficiario",
                    f"Santander código do beneficiário must have {CODIGO_BENEFICIARIO_DIGITS} "
                    f"digits (pad with leading zeros), got {config.codigo_beneficiario!r}",
                )
            )
        if config.carteira not in SUPPORTED_CARTEIRAS:
            problems.append(
                Problem(
                    "carteira",
                    f"Santander carteira (tipo de modalidade) must be one of "
                    f"{', '.join(SUPPORTED_CARTEIRAS)}, got {config.carteira!r}",
                )
            )
        if not is_digits(config.conta, 1, CONTA_DIGITS):
            problems.append(
                Problem(
                    "conta",
                    f"Santander conta corrente must have 1 to {CONTA_DIGITS} digits, "
                    f"got {config.conta!r}",
                )
            )
        if not is_digits(config.conta_dv, 1, 1):
            problems.append(
                Problem(
                    "conta_dv",
                    f"Santander conta corrente DV must be one digit, got {config.conta_dv!r}",
                )
            )
        if config.convenio:
            problems.append(
                Problem(
                    "convenio",
                    "Santander boletos carry no convênio: the contract is identified by the "
                    f"código do beneficiário; leave it empty, got {config.convenio!r}",
                )
            )
        if config.posto:
            problems.append(
                Problem(
                    "posto",
                    f"Santander has no posto; leave it empty, got {config.posto!r}",
                )
            )
        return problems

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        number = ensure_sequence(sequence, NOSSO_NUMERO_DIGITS, self.name)
        dv = nosso_numero_dv(number)
        return f"9{config.codigo_beneficiario}{number}{dv}{IOF}{config.carteira}"

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        return printed_nosso_numero(ensure_sequence(sequence, NOSSO_NUMERO_DIGITS, self.name))

    def agencia_codigo(self, config: BeneficiaryConfig) -> str:
        # The boleto identifies the beneficiary by the código, not by the conta corrente.
        return f"{config.agencia} / {config.codigo_beneficiario}"
