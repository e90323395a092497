"""Bradesco (237): the one campo livre Bradesco publishes for its cobrança carteiras.

Source: Bradesco "Manual de Procedimentos Operacionais para Troca de Arquivos - Cobrança
Bradesco", nº 4008.524.0121, versão 10, 12/08/2015 (its boleto chapters).

Campo livre: agência (4) + carteira (2) + nosso número (11) + conta (7) + '0'.
Nosso número: printed CC/NNNNNNNNNNN-D; D is modulo 11 with weights 2..7 from the right over
carteira + number, 11 - remainder, with remainder 1 printed 'P' and remainder 0 printed '0'.

The beneficiary's fields, in Bradesco's terms:
- agencia: the agência beneficiária, 4 digits without its check digit;
- conta / conta_dv: the conta corrente (up to 7 digits) and its check digit (a digit or P);
- carteira: the carteira de cobrança of the contract, 2 digits (09 is the usual registered one);
- convenio: the "Código da Empresa" Bradesco assigns to the cobrança contract, which CNAB 240
  calls "Código do Convênio no Banco"; only the remessa carries it, never the boleto.
Bradesco has no separate código do beneficiário or posto: its boleto prints agência/conta.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..digits import ensure_digits
from ..errors import Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

NOSSO_NUMERO_DIGITS = 11
CONTA_DIGITS = 7
# Cobrança Interna (21 with registration, 22 without) is payable only at Bradesco and puts
# "000" where the bank code goes, so its barcode is not a FEBRABAN boleto's.
COBRANCA_INTERNA = ("21", "22")
_NOSSO_NUMERO_WEIGHTS = (2, 3, 4, 5, 6, 7)
_AGENCIA_WEIGHTS = (2, 3, 4, 5)


def _mod11_dv(digits: str, weights: tuple[int, ...]) -> str:
    """Bradesco's modulo 11: 11 - remainder, remainder 1 as 'P' and remainder 0 as '0'."""
    ensure_digits(digits, "Bradesco modulo 11 input")
    total = sum(int(digit) * weights[i % len(weights)] for i, digit in enumerate(reversed(digits)))
    remainder = total % 11
    if remainder == 0:
        return "0"
    if remainder == 1:
        return "P"
    return str(11 - remainder)


def nosso_numero_dv(carteira: str, number: str) -> str:
    """The dígito de auto-conferência of a nosso número (manual 4008.524.0121, pages 17-18)."""
    return _mod11_dv(carteira + number, _NOSSO_NUMERO_WEIGHTS)


def agencia_dv(agencia: str) -> str:
    """The check digit of a 4-digit agência. Not in Bradesco's cobrança manuals: the rule that
    independent implementations agree on (weights 2..5, remainder 1 as 'P'), used only when the
    beneficiary does not state the digit."""
    return _mod11_dv(agencia, _AGENCIA_WEIGHTS)


def format_nosso_numero(carteira: str, number: str) -> str:
    return f"{carteira}/{number}-{nosso_numero_dv(carteira, number)}"


class Bradesco(PrintedAsAgenciaConta):
    code = "237"
    name = "Bradesco"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        if not is_digits(config.carteira, 2, 2):
            problems.append(
                Problem(
                    "carteira",
                    "Bradesco carteira has 2 digits (pad with a leading zero, e.g. 09), "
                    f"got {config.carteira!r}",
                )
            )
        elif config.carteira in COBRANCA_INTERNA:
            problems.append(
                Problem(
                    "carteira",
                    f"Bradesco carteira {config.carteira} is Cobrança Interna, whose barcode "
                    "is payable only at Bradesco and is not written here",
                )
            )
        if not is_digits(config.conta, 1, CONTA_DIGITS):
            problems.append(
                Problem(
                    "conta",
                    f"Bradesco conta corrente has at most {CONTA_DIGITS} digits (without its "
                    f"check digit), got {config.conta!r}",
                )
            )
        # Implementations disagree on how Bradesco computes the conta's digit, and the manuals
        # do not say, so it is taken as the beneficiary states it: only its shape is checked.
        if not (is_digits(config.conta_dv, 1, 1) or config.conta_dv == "P"):
            problems.append(
                Problem(
                    "conta_dv",
                    f"Bradesco conta check digit is one digit or P, got {config.conta_dv!r}",
                )
            )
        if config.codigo_beneficiario:
            problems.append(
                Problem(
                    "codigo_beneficiario",
                    "Bradesco has no código do beneficiário apart from agência and conta; "
                    "leave it empty (the Código da Empresa goes in convenio), "
                    f"got {config.codigo_beneficiario!r}",
                )
            )
        if config.posto:
            problems.append(
                Problem(
                    "posto",
                    f"Bradesco has no posto; leave it empty, got {config.posto!r}",
                )
            )
        return problems

    def _number(self, sequence: int) -> str:
        return ensure_sequence(sequence, NOSSO_NUMERO_DIGITS, self.name)

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        conta = config.conta.zfill(CONTA_DIGITS)
        return f"{config.agencia}{config.carteira}{self._number(sequence)}{conta}0"

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        # The manual's example is "99 / 99999999999-D"; printed without the blanks, as the
        # implementations whose boletos are tested here print it, it stays one token.
        return format_nosso_numero(config.carteira, self._number(sequence))
