"""The ingest service's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boletos.platform.settings import env_int, env_str, process_env
from ingest_service.domain.lines import DEFAULT_BLOCK_BYTES, DEFAULT_MAX_LINE_BYTES


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
        )

    def masked(self) -> dict[str, object]:
        """The effective settings, safe to log: passwords in URLs are hidden."""
        from sqlalchemy.engine import make_url

        values = dict(self.__dict__)
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        return values
