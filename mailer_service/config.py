"""The mailer service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from boletos.platform.access.settings import env_key_file
from boletos.platform.settings import (
    ConfigError,
    ServiceSettings,
    env_choice,
    env_float,
    env_int,
    env_str,
    process_env,
)
from mailer_service.delivery.smtp import Security, SmtpSettings
from mailer_service.domain.errors import InvalidMailSettings
from mailer_service.domain.settings import MailSettings


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    boleto_addr: str
    # The service key the mailer shows the boleto service (BatchGetBoletoPdfs).
    boleto_api_key: str
    smtp: SmtpSettings
    max_attempts: int
    retry_base_seconds: float
    lease_seconds: float
    ack_wait_seconds: int
    mail: MailSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        return cls(
            **ServiceSettings.read_common(env, port=50053, database="mailer"),
            boleto_addr=env_str(env, "BOLETO_ADDR", "localhost:50052"),
            boleto_api_key=env_key_file(env, "BOLETO_API_KEY_FILE", required=True),
            smtp=_smtp(env),
            max_attempts=env_int(env, "MAIL_MAX_ATTEMPTS", 8, minimum=1),
            retry_base_seconds=env_float(env, "MAIL_RETRY_BASE_SECONDS", 5.0, minimum=0),
            lease_seconds=env_float(env, "MAIL_LEASE_SECONDS", 120.0, minimum=1.0),
            ack_wait_seconds=env_int(env, "MAILER_ACK_WAIT_SECONDS", 10, minimum=1),
            mail=_mail(env),
        )

    def masked(self) -> dict[str, object]:
        values = super().masked()
        values["smtp"] = (
            f"{self.smtp.host}:{self.smtp.port} security {self.smtp.security}, "
            f"user {self.smtp.username or '-'}, {self.smtp.connections} connections, "
            f"rate {self.smtp.rate_per_second or 'unlimited'}/s"
        )
        values["mail"] = self.mail.from_address
        values["boleto_api_key"] = "(set)"
        return values


def _smtp(env: Mapping[str, str]) -> SmtpSettings:
    security = env_choice(env, "SMTP_SECURITY", "none", ("none", "starttls", "tls"))
    username = env_str(env, "SMTP_USERNAME", "")
    password = env_str(env, "SMTP_PASSWORD", "")
    try:
        return SmtpSettings(
            host=env_str(env, "SMTP_HOST", "localhost"),
            port=env_int(env, "SMTP_PORT", 1025, minimum=1),
            security=cast(Security, security),
            username=username or None,
            password=password or None,
            connections=env_int(env, "SMTP_CONNECTIONS", 8, minimum=1),
            rate_per_second=env_float(env, "SMTP_RATE_PER_SECOND", 0.0, minimum=0),
            timeout=env_float(env, "SMTP_TIMEOUT_SECONDS", 300.0, minimum=0.1),
            data_timeout=env_float(env, "SMTP_DATA_TIMEOUT_SECONDS", 600.0, minimum=0.1),
        )
    except InvalidMailSettings as exc:
        raise ConfigError(f"SMTP_*: {exc}") from None


def _mail(env: Mapping[str, str]) -> MailSettings:
    reply_to = env_str(env, "MAIL_REPLY_TO", "")
    try:
        return MailSettings(
            from_address=env_str(
                env, "MAIL_FROM", "Cobranças Exemplo <cobranca@cobrancas.example.com>"
            ),
            reply_to=reply_to or None,
        )
    except InvalidMailSettings as exc:
        raise ConfigError(f"MAIL_FROM / MAIL_REPLY_TO: {exc}") from None
