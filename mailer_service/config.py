"""The mailer service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boletos.platform.settings import ConfigError, env_float, env_int, env_str, process_env
from mailer_service.domain.errors import InvalidMailSettings
from mailer_service.domain.settings import MailSettings


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
    boleto_addr: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str
    smtp_connections: int
    smtp_rate_per_second: float
    max_attempts: int
    retry_base_seconds: float
    ack_wait_seconds: int
    mail: MailSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        security = env_str(env, "SMTP_SECURITY", "none")
        if security not in ("none", "starttls", "tls"):
            raise ConfigError(f"SMTP_SECURITY must be none, starttls or tls, got {security!r}")
        reply_to = env_str(env, "MAIL_REPLY_TO", "")
        try:
            mail = MailSettings(
                from_address=env_str(
                    env, "MAIL_FROM", "Cobranças Exemplo <cobranca@cobrancas.example.com>"
                ),
                reply_to=reply_to or None,
            )
        except InvalidMailSettings as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            grpc_listen_addr=env_str(env, "GRPC_LISTEN_ADDR", "0.0.0.0:50053"),
            metrics_addr=env_str(env, "METRICS_ADDR", ""),
            database_url=env_str(env, "DATABASE_URL", "sqlite:///var/mailer.db"),
            nats_url=env_str(env, "NATS_URL", "nats://127.0.0.1:4222"),
            log_format=env_str(env, "LOG_FORMAT", "json"),
            log_level=env_str(env, "LOG_LEVEL", "INFO"),
            shutdown_grace_seconds=env_int(env, "SHUTDOWN_GRACE_SECONDS", 30, minimum=0),
            outbox_retention_hours=env_int(env, "OUTBOX_RETENTION_HOURS", 72, minimum=0),
            boleto_addr=env_str(env, "BOLETO_ADDR", "localhost:50052"),
            smtp_host=env_str(env, "SMTP_HOST", "localhost"),
            smtp_port=env_int(env, "SMTP_PORT", 1025, minimum=1),
            smtp_security=security,
            smtp_username=env_str(env, "SMTP_USERNAME", ""),
            smtp_password=env_str(env, "SMTP_PASSWORD", ""),
            smtp_connections=env_int(env, "SMTP_CONNECTIONS", 8, minimum=1),
            smtp_rate_per_second=env_float(env, "SMTP_RATE_PER_SECOND", 0.0),
            max_attempts=env_int(env, "MAIL_MAX_ATTEMPTS", 8, minimum=1),
            retry_base_seconds=env_float(env, "MAIL_RETRY_BASE_SECONDS", 5.0),
            ack_wait_seconds=env_int(env, "MAILER_ACK_WAIT_SECONDS", 30, minimum=1),
            mail=mail,
        )

    def masked(self) -> dict[str, object]:
        """The effective settings, safe to log: passwords are hidden."""
        from sqlalchemy.engine import make_url

        values = dict(self.__dict__)
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        values["smtp_password"] = "***" if self.smtp_password else ""
        values["mail"] = self.mail.from_address
        return values
