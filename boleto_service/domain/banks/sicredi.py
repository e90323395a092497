"""Sicredi (748): not written yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Problem

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig


class Sicredi:
    code = "748"
    name = "Sicredi"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        return [Problem("bank_code", "Sicredi boletos are not written yet")]

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        raise NotImplementedError

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        raise NotImplementedError
