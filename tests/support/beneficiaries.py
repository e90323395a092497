"""Beneficiaries the boleto tests issue for: one per supported bank."""

from __future__ import annotations

from boleto_service.domain.beneficiary import BeneficiaryConfig

BB_FIELDS = dict(
    name="Cobranças Exemplo Ltda",
    cnpj="11222333000181",
    bank_code="001",
    agencia="1234",
    conta="123456",
    conta_dv="X",
    convenio="1234567",
    carteira="17",
)
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
