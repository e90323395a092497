"""The ingest service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from boletos.platform.beneficiaries_file import beneficiary_keys
from boletos.platform.logs import mask_email
from boletos.platform.settings import (
    ConfigError,
    ServiceSettings,
    env_choice,
    env_float,
    env_int,
    env_str,
    process_env,
)
from ingest_service.domain.columns import EMAIL_RE
from ingest_service.domain.lines import DEFAULT_BLOCK_BYTES, DEFAULT_MAX_LINE_BYTES
from ingest_service.notifications.settings import NotifySettings
from ingest_service.service.block_writer import DEFAULT_MAX_ROW_ERRORS


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    block_bytes: int
    max_line_bytes: int
    prepare_workers: int
    # An upload whose receiving process has not vouched for it this long is interrupted.
    receiver_stale_seconds: float
    # A stream that sends nothing this long, or lasts longer than the deadline, is ended.
    idle_seconds: float
    upload_deadline_seconds: float
    # Upload streams one credential may have open on one process at a time.
    max_uploads_per_caller: int
    notify: NotifySettings
    # Keys uploads may name (BENEFICIARIES_FILE); empty: one beneficiary, named by none.
    beneficiaries: tuple[str, ...] = ()
    # Row errors stored per upload; past it only a count per code.
    max_row_errors: int = DEFAULT_MAX_ROW_ERRORS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        return cls(
            **ServiceSettings.read_common(env, port=50051, database="ingest"),
            block_bytes=env_int(env, "INGEST_BLOCK_BYTES", DEFAULT_BLOCK_BYTES, minimum=4096),
            max_line_bytes=env_int(
                env, "INGEST_MAX_LINE_BYTES", DEFAULT_MAX_LINE_BYTES, minimum=256
            ),
            prepare_workers=env_int(env, "INGEST_PREPARE_WORKERS", 1, minimum=1),
            receiver_stale_seconds=env_float(
                env, "INGEST_RECEIVER_STALE_SECONDS", 30.0, minimum=1.0
            ),
            idle_seconds=env_float(env, "INGEST_IDLE_TIMEOUT_SECONDS", 60.0, minimum=0.1),
            upload_deadline_seconds=env_float(
                env, "INGEST_UPLOAD_DEADLINE_SECONDS", 3600.0, minimum=1.0
            ),
            max_uploads_per_caller=env_int(env, "INGEST_MAX_UPLOADS_PER_CALLER", 4, minimum=1),
            notify=_notify_settings(env),
            beneficiaries=beneficiary_keys(env),
            max_row_errors=env_int(
                env, "INGEST_MAX_ROW_ERRORS", DEFAULT_MAX_ROW_ERRORS, minimum=100
            ),
        )

    def masked(self) -> dict[str, object]:
        values = super().masked()
        values["notify"] = self.notify.masked()
        return values


def _notify_settings(env: Mapping[str, str]) -> NotifySettings:
    """Operator notifications: NOTIFY_EMAIL_TO and/or NOTIFY_WEBHOOK_URL turn them on."""
    security = env_choice(env, "NOTIFY_SMTP_SECURITY", "none", ("none", "starttls", "tls"))
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
            env, "NOTIFY_RETRY_BASE_SECONDS", NotifySettings.retry_base_seconds, minimum=0
        ),
        timeout_seconds=env_float(
            env, "NOTIFY_TIMEOUT_SECONDS", NotifySettings.timeout_seconds, minimum=0.1
        ),
        report_max_bytes=env_int(
            env, "NOTIFY_REPORT_MAX_BYTES", NotifySettings.report_max_bytes, minimum=0
        ),
    )
