"""The gateway's configuration, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from boletos.platform.access.transport import ClientTls, ServerTls
from boletos.platform.settings import (
    LOG_FORMATS,
    LOG_LEVELS,
    ConfigError,
    env_choice,
    env_flag,
    env_int,
    env_str,
    process_env,
)
from gateway_service.clients.oidc import OidcSettings

DEFAULT_PORT = 8443


@dataclass(frozen=True, kw_only=True)
class Settings:
    listen_addr: str
    # None: plain HTTP, asked for with HTTP_INSECURE=true (behind a proxy that ends TLS).
    tls: ServerTls | None
    ingest_addr: str
    boleto_addr: str
    mailer_addr: str
    # How the gateway's calls check the services, and the certificate it shows them.
    client_tls: ClientTls
    metrics_addr: str
    # Debtors' pages per client address: a steady rate, and the burst a bucket holds.
    page_rate_per_minute: int
    page_rate_burst: int
    # The console's session cookies are sealed with this key (Fernet); None: a key made at
    # start, which signs everyone out at each restart and differs between replicas.
    console_session_key: bytes | None
    console_session_hours: int
    # Signing in to the console through the company's OpenID Connect provider; None: keys only.
    console_oidc: OidcSettings | None
    log_format: str
    log_level: str
    shutdown_grace_seconds: int

    @property
    def host(self) -> str:
        return self.listen_addr.rpartition(":")[0].strip("[]") or "0.0.0.0"

    @property
    def port(self) -> int:
        return int(self.listen_addr.rpartition(":")[2])

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        listen = env_str(env, "HTTP_LISTEN_ADDR", f"127.0.0.1:{DEFAULT_PORT}")
        if not listen.rpartition(":")[2].isdigit():
            raise ConfigError(f"HTTP_LISTEN_ADDR must be host:port, got {listen!r}")
        return cls(
            listen_addr=listen,
            tls=_server_tls(env),
            ingest_addr=env_str(env, "INGEST_ADDR", "localhost:50051"),
            boleto_addr=env_str(env, "BOLETO_ADDR", "localhost:50052"),
            mailer_addr=env_str(env, "MAILER_ADDR", "localhost:50053"),
            client_tls=_client_tls(env),
            metrics_addr=env_str(env, "METRICS_ADDR", ""),
            page_rate_per_minute=env_int(env, "PAGE_RATE_PER_MINUTE", 30, minimum=1),
            page_rate_burst=env_int(env, "PAGE_RATE_BURST", 20, minimum=1),
            console_session_key=_session_key(env),
            console_session_hours=env_int(env, "CONSOLE_SESSION_HOURS", 8, minimum=1),
            console_oidc=_oidc(env),
            log_format=env_choice(env, "LOG_FORMAT", "json", LOG_FORMATS),
            log_level=env_choice(
                {"LOG_LEVEL": env_str(env, "LOG_LEVEL", "INFO").upper()},
                "LOG_LEVEL",
                "INFO",
                LOG_LEVELS,
            ),
            shutdown_grace_seconds=env_int(env, "SHUTDOWN_GRACE_SECONDS", 30, minimum=0),
        )

    def masked(self) -> dict[str, object]:
        return {
            "listen_addr": self.listen_addr,
            "tls": "off (HTTP_INSECURE)" if self.tls is None else "on",
            "ingest_addr": self.ingest_addr,
            "boleto_addr": self.boleto_addr,
            "mailer_addr": self.mailer_addr,
            "grpc_tls": "off (GRPC_INSECURE)" if self.client_tls.insecure else "on",
            "metrics_addr": self.metrics_addr,
            "console_oidc": self.console_oidc.issuer if self.console_oidc else "off",
            "console_sessions": (
                f"{self.console_session_hours} h, "
                + ("key from file" if self.console_session_key else "key made at start")
            ),
        }


def _oidc(env: Mapping[str, str]) -> OidcSettings | None:
    issuer = env_str(env, "CONSOLE_OIDC_ISSUER", "")
    client_id = env_str(env, "CONSOLE_OIDC_CLIENT_ID", "")
    secret_file = env_str(env, "CONSOLE_OIDC_CLIENT_SECRET_FILE", "")
    scopes = env_str(env, "CONSOLE_OIDC_SCOPES", "openid profile")
    ca_file = env_str(env, "CONSOLE_OIDC_CA_FILE", "")
    if not issuer:
        return None
    loopback = issuer.startswith(("http://127.0.0.1", "http://localhost"))
    if not issuer.startswith("https://") and not loopback:
        raise ConfigError("CONSOLE_OIDC_ISSUER must be https:// (or on this machine)")
    if not client_id:
        raise ConfigError("CONSOLE_OIDC_CLIENT_ID is required with CONSOLE_OIDC_ISSUER")
    secret = ""
    if secret_file:
        try:
            secret = Path(secret_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"CONSOLE_OIDC_CLIENT_SECRET_FILE: cannot read it: {exc.strerror}"
            ) from None
    return OidcSettings(issuer, client_id, secret, scopes, ca_file)


def _session_key(env: Mapping[str, str]) -> bytes | None:
    path = env_str(env, "CONSOLE_SESSION_KEY_FILE", "")
    if not path:
        return None
    try:
        key = Path(path).read_bytes().strip()
        Fernet(key)
    except OSError as exc:
        raise ConfigError(f"CONSOLE_SESSION_KEY_FILE: cannot read it: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(
            "CONSOLE_SESSION_KEY_FILE must hold a Fernet key (32 bytes, url-safe base64)"
        ) from None
    return key


def _server_tls(env: Mapping[str, str]) -> ServerTls | None:
    cert = env_str(env, "HTTP_TLS_CERT", "")
    key = env_str(env, "HTTP_TLS_KEY", "")
    if cert or key:
        if not (cert and key):
            raise ConfigError("HTTP_TLS_CERT and HTTP_TLS_KEY go together; one is unset")
        return ServerTls(cert, key)
    if env_flag(env, "HTTP_INSECURE"):
        return None
    raise ConfigError(
        "HTTP_TLS_CERT and HTTP_TLS_KEY are required (HTTPS); HTTP_INSECURE=true serves "
        "plain HTTP instead, behind a proxy that ends TLS"
    )


def _client_tls(env: Mapping[str, str]) -> ClientTls:
    ca = env_str(env, "GRPC_TLS_CA", "")
    cert = env_str(env, "GRPC_TLS_CERT", "")
    key = env_str(env, "GRPC_TLS_KEY", "")
    if env_flag(env, "GRPC_INSECURE"):
        return ClientTls(insecure=True)
    if bool(cert) != bool(key):
        raise ConfigError("GRPC_TLS_CERT and GRPC_TLS_KEY go together; one is unset")
    # A certificate shown to services that ask for mutual TLS; the CA checks theirs.
    return ClientTls(ca, cert, key)
