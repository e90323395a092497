"""The mailer service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from boletos.platform.access.settings import env_key_file
from boletos.platform.payment_links import keys_from_env
from boletos.platform.settings import (
    ConfigError,
    ServiceSettings,
    env_choice,
    env_flag,
    env_float,
    env_int,
    env_str,
    process_env,
)
from mailer_service.delivery.smtp import Security, SmtpSettings
from mailer_service.domain.errors import InvalidMailSettings
from mailer_service.domain.payment_link import PaymentLinks
from mailer_service.domain.schedule import NoticePolicy
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
    # Reminders and overdue notices; off for a deployment whose payments never come back
    # through the bank's return files, where every boleto would look unpaid.
    notices: bool
    notice_policy: NoticePolicy
    reminder_check_seconds: float
    send_receipts: bool

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
            notices=env_choice(env, "MAILER_REMINDERS", "on", ("on", "off")) == "on",
            notice_policy=_notice_policy(env),
            reminder_check_seconds=env_float(
                env, "MAILER_REMINDER_CHECK_SECONDS", 60.0, minimum=0.1
            ),
            send_receipts=env_flag(env, "MAILER_SEND_RECEIPTS"),
        )

    def masked(self) -> dict[str, object]:
        values = super().masked()
        values["smtp"] = (
            f"{self.smtp.host}:{self.smtp.port} security {self.smtp.security}, "
            f"user {self.smtp.username or '-'}, {self.smtp.connections} connections, "
            f"rate {self.smtp.rate_per_second or 'unlimited'}/s"
        )
        values["mail"] = self.mail.from_address
        links = self.mail.links
        values["payment_links"] = (
            f"{links.base_url}/p/..., {links.days_after_due} days past the due date"
            if links
            else "off"
        )
        values["boleto_api_key"] = "(set)"
        policy = self.notice_policy
        values["notice_policy"] = (
            f"reminder {policy.reminder_days_before} days before, overdue notice "
            f"{policy.overdue_days_after} days after, checked every "
            f"{self.reminder_check_seconds:g} s"
            if self.notices
            else "off"
        )
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
    links = _links(env)
    try:
        return MailSettings(
            from_address=env_str(
                env, "MAIL_FROM", "Cobranças Exemplo <cobranca@cobrancas.example.com>"
            ),
            reply_to=reply_to or None,
            links=links,
        )
    except InvalidMailSettings as exc:
        raise ConfigError(f"MAIL_FROM / MAIL_REPLY_TO: {exc}") from None


def _links(env: Mapping[str, str]) -> PaymentLinks | None:
    base = env_str(env, "PUBLIC_BASE_URL", "").rstrip("/")
    keys = keys_from_env(env)
    days = env_int(env, "PAYMENT_LINK_DAYS", 180, minimum=1)
    if not base:
        return None
    if not base.startswith(("https://", "http://")) or any(c in base for c in '?#" \t'):
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s):// address, got {base!r}")
    if keys is None:
        raise ConfigError("PUBLIC_BASE_URL needs PAYMENT_LINK_KEYS_FILE, to sign the links")
    return PaymentLinks(base, keys, days)


def _notice_policy(env: Mapping[str, str]) -> NoticePolicy:
    # Up to a year either way: more is a typo, not a schedule.
    return NoticePolicy(
        reminder_days_before=_at_most(
            env_int(env, "REMINDER_DAYS_BEFORE", 3, minimum=0), 366, "REMINDER_DAYS_BEFORE"
        ),
        overdue_days_after=_at_most(
            env_int(env, "OVERDUE_NOTICE_DAYS_AFTER", 1, minimum=1),
            366,
            "OVERDUE_NOTICE_DAYS_AFTER",
        ),
    )


def _at_most(value: int, maximum: int, name: str) -> int:
    if value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value
