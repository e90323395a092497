"""Beneficiaries the boleto tests issue for: one per supported bank."""

from __future__ import annotations

import dataclasses

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boletos_testing.beneficiary import BENEFICIARY

BB_FIELDS = dataclasses.asdict(BENEFICIARY)
ITAU_FIELDS = dict(
    name="Cobranças Exemplo Ltda",
    cnpj="11222333000181",
    bank_code="341",
    agencia="0057",
    conta="12345",
    conta_dv="7",
    carteira="109",
)
BB = BeneficiaryConfig(**BB_FIELDS)
ITAU = BeneficiaryConfig(**ITAU_FIELDS)
