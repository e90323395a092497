"""Configuration from environment variables: the settings every service reads the same way.
Each service's config module adds its own on top of ServiceSettings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import make_url

from boletos.platform.access.settings import AccessSettings
from boletos.platform.env import (
    ConfigError,
    env_choice,
    env_decimal,
    env_flag,
    env_float,
    env_int,
    env_str,
    process_env,
)
from boletos.platform.nats_auth import NatsAuth, without_credentials
from boletos.platform.nats_streams import DEFAULT_MAX_DEBTS

__all__ = [
    "ConfigError",
    "ServiceSettings",
    "env_choice",
    "env_decimal",
    "env_flag",
    "env_float",
    "env_int",
    "env_str",
    "process_env",
]


LOG_FORMATS = ("json", "console")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """What every service process reads the same way."""

    grpc_listen_addr: str
    # A second, plain-text port answering only grpc.health.v1: probes that cannot speak TLS
    # (Kubernetes' native gRPC probes) check it. Empty: none.
    health_listen_addr: str
    # host:port of the Prometheus /metrics endpoint. Empty (the default) serves none: several
    # services share one machine in development and tests, where any fixed port would clash.
    metrics_addr: str
    database_url: str
    # Upgrade the store's schema at start instead of refusing an old one (see migrations.py).
    db_auto_migrate: bool
    # One URL, or several separated by commas: the nodes of one cluster.
    nats_url: str
    # Nodes each stream and the key bucket are kept on (1 to 5); more than 1 needs a cluster.
    nats_stream_replicas: int
    # Debts whose events each stream has room for; sizes its max_bytes (see nats_streams).
    nats_stream_max_debts: int
    # The service's NATS user and password, when the server asks for them (nats_auth).
    nats_auth: NatsAuth
    log_format: str
    log_level: str
    shutdown_grace_seconds: int
    outbox_retention_hours: int
    access: AccessSettings

    @staticmethod
    def read_store(env: Mapping[str, str], *, database: str) -> dict[str, Any]:
        """What `migrate` needs, and nothing it does not: the store and the logs."""
        return {
            "database_url": _database_url(env, f"sqlite:///var/{database}.db"),
            "log_format": env_choice(env, "LOG_FORMAT", "json", LOG_FORMATS),
            "log_level": env_choice(
                {"LOG_LEVEL": env_str(env, "LOG_LEVEL", "INFO").upper()},
                "LOG_LEVEL",
                "INFO",
                LOG_LEVELS,
            ),
        }

    @staticmethod
    def read_common(env: Mapping[str, str], *, port: int, database: str) -> dict[str, Any]:
        """The shared settings as keyword arguments for a subclass; `port` and `database`
        are the service's own defaults."""
        return {
            **ServiceSettings.read_store(env, database=database),
            "grpc_listen_addr": env_str(env, "GRPC_LISTEN_ADDR", f"127.0.0.1:{port}"),
            "health_listen_addr": env_str(env, "GRPC_HEALTH_LISTEN_ADDR", ""),
            "metrics_addr": env_str(env, "METRICS_ADDR", ""),
            "db_auto_migrate": env_flag(env, "DB_AUTO_MIGRATE"),
            "nats_url": env_str(env, "NATS_URL", "nats://127.0.0.1:4222"),
            "nats_stream_replicas": _stream_replicas(env),
            "nats_stream_max_debts": env_int(
                env, "NATS_STREAM_MAX_DEBTS", DEFAULT_MAX_DEBTS, minimum=1
            ),
            "nats_auth": NatsAuth.read(env),
            "shutdown_grace_seconds": env_int(env, "SHUTDOWN_GRACE_SECONDS", 30, minimum=0),
            "outbox_retention_hours": env_int(env, "OUTBOX_RETENTION_HOURS", 72, minimum=0),
            "access": AccessSettings.read(env),
        }

    def masked(self) -> dict[str, object]:
        """The effective settings, safe to log; subclasses mask their own secrets on top."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        values["access"] = self.access.masked()
        values["nats_auth"] = self.nats_auth.masked()
        values["nats_url"] = without_credentials(self.nats_url)
        return values


def _database_url(env: Mapping[str, str], default: str) -> str:
    url = env_str(env, "DATABASE_URL", default)
    try:
        make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise ConfigError(
            "DATABASE_URL must be a SQLAlchemy URL such as sqlite:///var/x.db or "
            "postgresql+psycopg://user:password@host:5432/db"
        ) from None
    return url


# JetStream keeps a stream on at most five nodes.
MAX_STREAM_REPLICAS = 5


def _stream_replicas(env: Mapping[str, str]) -> int:
    replicas = env_int(env, "NATS_STREAM_REPLICAS", 1, minimum=1)
    if replicas > MAX_STREAM_REPLICAS:
        raise ConfigError(
            f"NATS_STREAM_REPLICAS must be 1 to {MAX_STREAM_REPLICAS}, got {replicas}"
        )
    return replicas
