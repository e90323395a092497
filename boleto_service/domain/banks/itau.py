"""Itaú (341), the standard layout of carteiras such as 109.

Campo livre: carteira (3) + nosso número (8) + DAC + agência (4) + conta (5) + DAC + '000'.
The first DAC is modulo 10 of agência + conta + carteira + nosso número; the second is modulo 10
of agência + conta, which is also the conta's own check digit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checkdigits import mod10
from ..errors import Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

NOSSO_NUMERO_DIGITS = 8
# Carteiras whose barcodes follow this layout and DAC rule, each checked against a published
# boleto. Itaú lists other carteiras that compute the nosso número DAC without agência/conta
# (126, 131, 146, 150, 168) or use a different campo livre (106, 107, 122, 142, 143, 195, 196,
# 198); they need their own rules before they can be added here.
SUPPORTED_CARTEIRAS = ("109", "157", "174", "175")


def account_dac(agencia: str, conta: str) -> int:
    return mod10(agencia + conta)


def nosso_numero_dac(agencia: str, conta: str, carteira: str, nosso_numero: str) -> int:
    return mod10(agencia + conta + carteira + nosso_numero)


class Itau(PrintedAsAgenciaConta):
    code = "341"
    name = "Itaú"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        if config.carteira not in SUPPORTED_CARTEIRAS:
            problems.append(
                Problem(
                    "carteira",
                    f"Itaú carteira must be one of {', '.join(SUPPORTED_CARTEIRAS)}, "
                    f"got {config.carteira!r}",
                )
            )
        if not is_digits(config.conta, 5, 5):
            problems.append(
                Problem(
                    "conta",
                    f"Itaú conta must have 5 digits (pad with leading zeros), got {config.conta!r}",
                )
            )
        elif is_digits(config.agencia, 4, 4):
            expected = str(account_dac(config.agencia, config.conta))
            if config.conta_dv != expected:
                problems.append(
                    Problem(
                        "conta_dv",
                        f"Itaú conta DV for agência {config.agencia} conta {config.conta} "
                        f"is {expected}, got {config.conta_dv!r}",
                    )
                )
        if config.convenio:
            problems.append(
                Problem(
                    "convenio",
                    "Itaú boletos of these carteiras carry no convênio; leave it empty, "
                    f"got {config.convenio!r}",
                )
            )
        return problems

    def _nosso_numero_and_dac(self, config: BeneficiaryConfig, sequence: int) -> tuple[str, int]:
        number = ensure_sequence(sequence, NOSSO_NUMERO_DIGITS, self.name)
        return number, nosso_numero_dac(config.agencia, config.conta, config.carteira, number)

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        number, dac = self._nosso_numero_and_dac(config, sequence)
        account = account_dac(config.agencia, config.conta)
        return f"{config.carteira}{number}{dac}{config.agencia}{config.conta}{account}000"

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        number, dac = self._nosso_numero_and_dac(config, sequence)
        return f"{config.carteira}/{number}-{dac}"
