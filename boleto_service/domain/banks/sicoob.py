"""Sicoob (756), the cooperative system: carteira 1, modalidade 01 (cobrança simples com registro).

Rules from Sicoob's "Instruções para montagem e validação de boletos de cobrança", the workbook
"Leiaute Cobrança Sicoob - Sistemas de Terceiro" (atualização 22/08/2017), sheets
"01.Contracapa" and "02.Especificações do Boleto" (items 3.7, 3.13 and 3.29).

The beneficiary's generic fields carry Sicoob's terms:
- `agencia`: the cooperativa's prefixo (4 digits, without its DV, which is computed);
- `codigo_beneficiario`: the código do cliente (also "código do beneficiário/associado"), up to 7
  digits whose last one is its own check digit, as the cooperativa gives it: 17227-8 is "172278".
  It is not the conta corrente;
- `conta` and `conta_dv`: the conta corrente and its DV, only written in the CNAB 240 remessa;
- `carteira`: "1", cobrança simples, whose modalidade 01 is simples com registro;
- `convenio` and `posto`: not used by Sicoob, so they must stay empty.

Campo livre: carteira (1) + cooperativa (4) + modalidade (2) + código do cliente (7) +
nosso número (7) + its DV + parcela (3, "001" for a single boleto).
Nosso número: 7 digits and a DV, printed NNNNNNN-D.
"""

from __future__ import annotations

from itertools import cycle
from typing import TYPE_CHECKING

from ..checkdigits import mod11_remainder
from ..digits import ensure_digits
from ..errors import Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

NOSSO_NUMERO_DIGITS = 7
CODIGO_CLIENTE_DIGITS = 7
SUPPORTED_CARTEIRA = "1"
MODALIDADE = "01"  # simples com registro, the only one a carteira 1 boleto of this product uses
PARCELA = "001"  # every boleto here is a single payment, never a carnê installment
# Item 3.13: the constant 3197 repeated along cooperativa (4) + cliente (10) + nosso número (7).
_NOSSO_NUMERO_WEIGHTS = (3, 1, 9, 7)


def nosso_numero_dv(cooperativa: str, codigo_cliente: str, number: str) -> int:
    """Item 3.13: 11 minus the weighted sum modulo 11, and 0 when that remainder is 0 or 1."""
    digits = cooperativa.zfill(4) + codigo_cliente.zfill(10) + number.zfill(NOSSO_NUMERO_DIGITS)
    ensure_digits(digits, "Sicoob nosso número DV input", 21)
    total = sum(int(d) * w for d, w in zip(digits, cycle(_NOSSO_NUMERO_WEIGHTS)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def cooperativa_dv(cooperativa: str) -> int:
    """The prefixo's DV, as the manual's Contracapa prints every cooperativa ("4327-3").

    The manual gives only the table; its 715 entries all follow modulo 11 with weights 2..9
    from the right, 11 minus the remainder, and 0 for remainders 0 and 1.
    """
    remainder = mod11_remainder(ensure_digits(cooperativa, "Sicoob cooperativa", 4))
    return 0 if remainder < 2 else 11 - remainder


def print_nosso_numero(number: str, dv: int) -> str:
    """The manual writes the nosso número with its DV after a dash ("21-8")."""
    return f"{number}-{dv}"


class Sicoob(PrintedAsAgenciaConta):
    code = "756"
    name = "Sicoob"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        if config.carteira != SUPPORTED_CARTEIRA:
            problems.append(
                Problem(
                    "carteira",
                    f"Sicoob carteira must be {SUPPORTED_CARTEIRA} (cobrança simples, modalidade "
                    f"{MODALIDADE} simples com registro), got {config.carteira!r}",
                )
            )
        if not is_digits(config.codigo_beneficiario, 1, CODIGO_CLIENTE_DIGITS):
            problems.append(
                Problem(
                    "codigo_beneficiario",
                    f"Sicoob código do cliente must have 1 to {CODIGO_CLIENTE_DIGITS} digits, its "
                    f"check digit last (17227-8 is 172278), got {config.codigo_beneficiario!r}",
                )
            )
        if not is_digits(config.conta_dv, 1, 1):
            problems.append(
                Problem(
                    "conta_dv",
                    f"Sicoob conta corrente DV must be one digit, got {config.conta_dv!r}",
                )
            )
        if config.convenio:
            problems.append(
                Problem(
                    "convenio",
                    "Sicoob boletos carry no convênio: the código do cliente goes in "
                    f"codigo_beneficiario; leave convênio empty, got {config.convenio!r}",
                )
            )
        if config.posto:
            problems.append(
                Problem(
                    "posto",
                    f"Sicoob boletos carry no posto; leave it empty, got {config.posto!r}",
                )
            )
        return problems

    def _nosso_numero_and_dv(self, config: BeneficiaryConfig, sequence: int) -> tuple[str, int]:
        number = ensure_sequence(sequence, NOSSO_NUMERO_DIGITS, self.name)
        return number, nosso_numero_dv(config.agencia, config.codigo_beneficiario, number)

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        number, dv = self._nosso_numero_and_dv(config, sequence)
        cliente = config.codigo_beneficiario.zfill(CODIGO_CLIENTE_DIGITS)
        return f"{config.carteira}{config.agencia}{MODALIDADE}{cliente}{number}{dv}{PARCELA}"

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        return print_nosso_numero(*self._nosso_numero_and_dv(config, sequence))

    def agencia_codigo(self, config: BeneficiaryConfig) -> str:
        # The cooperativa and the código do cliente, which the barcode carries; the conta
        # corrente is only the remessa's.
        return f"{config.agencia} / {config.codigo_beneficiario}"
