"""Banco do Brasil (001), convênio of 7 digits, carteiras 17 and 18.

Campo livre: '000000' + convênio (7) + nosso número complement (10) + carteira (2).
Nosso número: convênio + complement, 17 digits without a check digit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

CONVENIO_DIGITS = 7
COMPLEMENT_DIGITS = 10
SUPPORTED_CARTEIRAS = ("17", "18")


class BancoDoBrasil(PrintedAsAgenciaConta):
    code = "001"
    name = "Banco do Brasil"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        if not is_digits(config.convenio, CONVENIO_DIGITS, CONVENIO_DIGITS):
            # 4-, 6- and 8-digit convênios put different fields in the campo livre.
            problems.append(
                Problem(
                    "convenio",
                    f"Banco do Brasil convênio must have {CONVENIO_DIGITS} digits for this "
                    f"layout, got {config.convenio!r}",
                )
            )
        if config.carteira not in SUPPORTED_CARTEIRAS:
            problems.append(
                Problem(
                    "carteira",
                    f"Banco do Brasil carteira must be one of {', '.join(SUPPORTED_CARTEIRAS)} "
                    f"with a 7-digit convênio, got {config.carteira!r}",
                )
            )
        if not is_digits(config.conta, 1, 8):
            problems.append(
                Problem(
                    "conta", f"Banco do Brasil conta must have 1 to 8 digits, got {config.conta!r}"
                )
            )
        if not (is_digits(config.conta_dv, 1, 1) or config.conta_dv == "X"):
            problems.append(
                Problem(
                    "conta_dv",
                    f"Banco do Brasil conta DV must be one digit or X, got {config.conta_dv!r}",
                )
            )
        return problems

    def _nosso_numero_digits(self, config: BeneficiaryConfig, sequence: int) -> str:
        return config.convenio + ensure_sequence(sequence, COMPLEMENT_DIGITS, self.name)

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        return "000000" + self._nosso_numero_digits(config, sequence) + config.carteira

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        return self._nosso_numero_digits(config, sequence)
