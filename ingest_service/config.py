"""The ingest service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from boletos.platform.logs import mask_email
from boletos.platform.settings import ConfigError, env_float, env_int, env_str, process_env
from ingest_service.domain.lines import DEFAULT_BLOCK_BYTES, DEFAULT_MAX_LINE_BYTES
from ingest_service.domain.validation import EMAIL_RE
from ingest_service.notifications.settings import NotifySettings


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
    block_bytes: int
    max_line_bytes: int
    prepare_workers: int
    outbox_retention_hours: int
    shutdown_grace_seconds: int
    notify: NotifySettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        return cls(
            grpc_listen_addr=env_str(env, "GRPC_LISTEN_ADDR", "0.0.0.0:50051"),
            metrics_addr=env_str(env, "METRICS_ADDR", ""),
            database_url=env_str(env, "DATABASE_URL", "sqlite:///var/ingest.db"),
            nats_url=env_str(env, "NATS_URL", "nats://127.0.0.1:4222"),
            log_format=env_str(env, "LOG_FORMAT", "json"),
            log_level=env_str(env, "LOG_LEVEL", "INFO"),
            block_bytes=env_int(env, "INGEST_BLOCK_BYTES", DEFAULT_BLOCK_BYTES, minimum=4096),
            max_line_bytes=env_int(
                env, "INGEST_MAX_LINE_BYTES", DEFAULT_MAX_LINE_BYTES, minimum=256
            ),
            prepare_workers=env_int(env, "INGEST_PREPARE_WORKERS", 1, minimum=1),
            outbox_retention_hours=env_int(env, "OUTBOX_RETENTION_HOURS", 72, minimum=0),
            shutdown_grace_seconds=env_int(env, "SHUTDOWN_GRACE_SECONDS", 30, minimum=0),
            notify=_notify_settings(env),
        )

    def masked(self) -> dict[str, object]:
        """The effective settings, safe to log: passwords in URLs are hidden."""
        from sqlalchemy.engine import make_url

        values = dict(self.__dict__)
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        values["notify"] = self.notify.masked()
        return values


def _notify_settings(env: Mapping[str, str]) -> NotifySettings:
    """Operator notifications: NOTIFY_EMAIL_TO and/or NOTIFY_WEBHOOK_URL turn them on."""
    security = env_str(env, "NOTIFY_SMTP_SECURITY", "none")
    if security not in ("none", "starttls", "tls"):
        raise ConfigError(f"NOTIFY_SMTP_SECURITY must be none, starttls or tls, got {security!r}")
    recipients = tuple(
        a.strip() for a in env_str(env, "NOTIFY_EMAIL_TO", "").split(",") if a.strip()
    )
    for address in recipients:
        if not EMAIL_RE.fullmatch(address):
            raise ConfigError(
                f"NOTIFY_EMAIL_TO must be comma-separated addresses like ops@example.com, "
                f"got {mask_email(address)!r}"
            )
    webhook = env_str(env, "NOTIFY_WEBHOOK_URL", "")
    if webhook and urlsplit(webhook).scheme not in ("http", "https"):
        raise ConfigError("NOTIFY_WEBHOOK_URL must be an http:// or https:// URL")
    return NotifySettings(
        email_to=recipients,
        email_from=env_str(env, "NOTIFY_EMAIL_FROM", NotifySettings.email_from),
        smtp_host=env_str(env, "NOTIFY_SMTP_HOST", NotifySettings.smtp_host),
        smtp_port=env_int(env, "NOTIFY_SMTP_PORT", NotifySettings.smtp_port, minimum=1),
        smtp_security=security,
        smtp_username=env_str(env, "NOTIFY_SMTP_USERNAME", ""),
        smtp_password=env_str(env, "NOTIFY_SMTP_PASSWORD", ""),
        webhook_url=webhook,
        max_attempts=env_int(env, "NOTIFY_MAX_ATTEMPTS", NotifySettings.max_attempts, minimum=1),
        retry_base_seconds=env_float(
            env, "NOTIFY_RETRY_BASE_SECONDS", NotifySettings.retry_base_seconds
        ),
        timeout_seconds=env_float(env, "NOTIFY_TIMEOUT_SECONDS", NotifySettings.timeout_seconds),
        report_max_bytes=env_int(
            env, "NOTIFY_REPORT_MAX_BYTES", NotifySettings.report_max_bytes, minimum=0
        ),
    )
