"""The boleto service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.errors import InvalidBeneficiaryConfig, InvalidOverduePolicy
from boletos.platform.settings import (
    ConfigError,
    ServiceSettings,
    env_decimal,
    env_int,
    env_str,
    process_env,
)

# The variable behind each beneficiary field, to name it when the field is refused.
BENEFICIARY_VARIABLES = {
    "name": "BENEFICIARY_NAME",
    "cnpj": "BENEFICIARY_CNPJ",
    "bank_code": "BENEFICIARY_BANK_CODE",
    "agencia": "BENEFICIARY_AGENCIA",
    "conta": "BENEFICIARY_CONTA",
    "conta_dv": "BENEFICIARY_CONTA_DV",
    "convenio": "BENEFICIARY_CONVENIO",
    "carteira": "BENEFICIARY_CARTEIRA",
}
_DEFAULTS = {
    "name": "Cobranças Exemplo Ltda",
    "cnpj": "11222333000181",
    "bank_code": "001",
    "agencia": "1234",
    "conta": "123456",
    "conta_dv": "7",
    "convenio": "1234567",
    "carteira": "18",
}


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    beneficiary: BeneficiaryConfig
    overdue: OverduePolicy
    fetch_batch: int
    ack_wait_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        return cls(
            **ServiceSettings.read_common(env, port=50052, database="boleto"),
            beneficiary=_beneficiary(env),
            overdue=_overdue(env),
            fetch_batch=env_int(env, "BOLETO_FETCH_BATCH", 4, minimum=1),
            ack_wait_seconds=env_int(env, "BOLETO_ACK_WAIT_SECONDS", 10, minimum=1),
        )

    def masked(self) -> dict[str, object]:
        values = super().masked()
        values["beneficiary"] = (
            f"{self.beneficiary.name} bank {self.beneficiary.bank_code} "
            f"carteira {self.beneficiary.carteira}"
        )
        values["overdue"] = (
            f"due +{self.overdue.days_after_issue}d, fine {self.overdue.fine_percent}%, "
            f"interest {self.overdue.monthly_interest_percent}%/month"
        )
        return values


def _beneficiary(env: Mapping[str, str]) -> BeneficiaryConfig:
    raw = {f: env_str(env, var, _DEFAULTS[f]) for f, var in BENEFICIARY_VARIABLES.items()}
    try:
        return BeneficiaryConfig.from_raw(**raw)
    except InvalidBeneficiaryConfig as exc:
        named = [
            f"{BENEFICIARY_VARIABLES.get(p.field, 'BENEFICIARY_*')}: {p.text}" for p in exc.problems
        ]
        raise ConfigError("; ".join(named)) from None


def _overdue(env: Mapping[str, str]) -> OverduePolicy:
    try:
        return OverduePolicy(
            days_after_issue=env_int(env, "OVERDUE_DAYS_AFTER_ISSUE", 5, minimum=1),
            fine_percent=env_decimal(env, "OVERDUE_FINE_PERCENT", "0"),
            monthly_interest_percent=env_decimal(env, "OVERDUE_MONTHLY_INTEREST_PERCENT", "0"),
        )
    except InvalidOverduePolicy as exc:
        raise ConfigError(f"OVERDUE_*: {exc}") from None
