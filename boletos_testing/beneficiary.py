"""The sample beneficiary boletos are issued for: a Banco do Brasil account with a convênio
and carteira 17."""

from __future__ import annotations

from boleto_service.domain.beneficiary import BeneficiaryConfig

BENEFICIARY = BeneficiaryConfig(
    name="Cobranças Exemplo Ltda",
    cnpj="11222333000181",
    bank_code="001",
    agencia="1234",
    conta="123456",
    conta_dv="X",
    convenio="1234567",
    carteira="17",
)
