"""The boleto service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.errors import BoletoDomainError
from boletos.platform.settings import ConfigError, env_decimal, env_int, env_str, process_env


@dataclass(frozen=True)
class Settings:
    grpc_listen_addr: str
    # host:port of the Prometheus /metrics endpoint. Empty (the default) serves none: several
    # services share one machine in development and tests, where any fixed port would clash.
    metrics_addr: str
    database_url: str
    nats_url: str
    log_format: str
    log_level: str
    shutdown_grace_seconds: int
    outbox_retention_hours: int
    beneficiary: BeneficiaryConfig
    overdue: OverduePolicy
    fetch_batch: int
    ack_wait_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        try:
            beneficiary = BeneficiaryConfig.from_raw(
                name=env_str(env, "BENEFICIARY_NAME", "Cobranças Exemplo Ltda"),
                cnpj=env_str(env, "BENEFICIARY_CNPJ", "11222333000181"),
                bank_code=env_str(env, "BENEFICIARY_BANK_CODE", "001"),
                agencia=env_str(env, "BENEFICIARY_AGENCIA", "1234"),
                conta=env_str(env, "BENEFICIARY_CONTA", "123456"),
                conta_dv=env_str(env, "BENEFICIARY_CONTA_DV", "7"),
                convenio=env_str(env, "BENEFICIARY_CONVENIO", "1234567"),
                carteira=env_str(env, "BENEFICIARY_CARTEIRA", "18"),
            )
            overdue = OverduePolicy(
                days_after_issue=env_int(env, "OVERDUE_DAYS_AFTER_ISSUE", 5, minimum=1),
                fine_percent=env_decimal(env, "OVERDUE_FINE_PERCENT", "0"),
                monthly_interest_percent=env_decimal(env, "OVERDUE_MONTHLY_INTEREST_PERCENT", "0"),
            )
        except BoletoDomainError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            grpc_listen_addr=env_str(env, "GRPC_LISTEN_ADDR", "0.0.0.0:50052"),
            metrics_addr=env_str(env, "METRICS_ADDR", ""),
            database_url=env_str(env, "DATABASE_URL", "sqlite:///var/boleto.db"),
            nats_url=env_str(env, "NATS_URL", "nats://127.0.0.1:4222"),
            log_format=env_str(env, "LOG_FORMAT", "json"),
            log_level=env_str(env, "LOG_LEVEL", "INFO"),
            shutdown_grace_seconds=env_int(env, "SHUTDOWN_GRACE_SECONDS", 30, minimum=0),
            outbox_retention_hours=env_int(env, "OUTBOX_RETENTION_HOURS", 72, minimum=0),
            beneficiary=beneficiary,
            overdue=overdue,
            fetch_batch=env_int(env, "BOLETO_FETCH_BATCH", 4, minimum=1),
            ack_wait_seconds=env_int(env, "BOLETO_ACK_WAIT_SECONDS", 30, minimum=1),
        )

    def masked(self) -> dict[str, object]:
        """The effective settings, safe to log: passwords in URLs are hidden."""
        from sqlalchemy.engine import make_url

        values = dict(self.__dict__)
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        values["beneficiary"] = (
            f"{self.beneficiary.name} bank {self.beneficiary.bank_code} "
            f"carteira {self.beneficiary.carteira}"
        )
        values["overdue"] = (
            f"due +{self.overdue.days_after_issue}d, fine {self.overdue.fine_percent}%, "
            f"interest {self.overdue.monthly_interest_percent}%/month"
        )
        return values
