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
    env_float,
    env_int,
    env_str,
    process_env,
)

__all__ = [
    "ConfigError",
    "ServiceSettings",
    "env_choice",
    "env_decimal",
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
    # host:port of the Prometheus /metrics endpoint. Empty (the default) serves none: several
    # services share one machine in development and tests, where any fixed port would clash.
    metrics_addr: str
    database_url: str
    nats_url: str
    log_format: str
    log_level: str
    shutdown_grace_seconds: int
    outbox_retention_hours: int
    access: AccessSettings

    @staticmethod
    def read_common(env: Mapping[str, str], *, port: int, database: str) -> dict[str, Any]:
        """The shared settings as keyword arguments for a subclass; `port` and `database`
        are the service's own defaults."""
        return {
            "grpc_listen_addr": env_str(env, "GRPC_LISTEN_ADDR", f"127.0.0.1:{port}"),
            "metrics_addr": env_str(env, "METRICS_ADDR", ""),
            "database_url": _database_url(env, f"sqlite:///var/{database}.db"),
            "nats_url": env_str(env, "NATS_URL", "nats://127.0.0.1:4222"),
            "log_format": env_choice(env, "LOG_FORMAT", "json", LOG_FORMATS),
            "log_level": env_choice(
                {"LOG_LEVEL": env_str(env, "LOG_LEVEL", "INFO").upper()},
                "LOG_LEVEL",
                "INFO",
                LOG_LEVELS,
            ),
            "shutdown_grace_seconds": env_int(env, "SHUTDOWN_GRACE_SECONDS", 30, minimum=0),
            "outbox_retention_hours": env_int(env, "OUTBOX_RETENTION_HOURS", 72, minimum=0),
            "access": AccessSettings.read(env),
        }

    def masked(self) -> dict[str, object]:
        """The effective settings, safe to log; subclasses mask their own secrets on top."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        values["access"] = self.access.masked()
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
