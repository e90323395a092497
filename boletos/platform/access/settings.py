"""How a service secures its gRPC port and checks its callers, from the environment.

TLS is required: GRPC_TLS_CERT and GRPC_TLS_KEY, or GRPC_INSECURE=true to serve plain text
(on a network that is itself trusted; the service warns at start). API keys are always
accepted; JWTs too once AUTH_JWT_ISSUER names an identity provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from boletos.platform.access.keys import MalformedKey, parse
from boletos.platform.access.open_streams import StreamLimits
from boletos.platform.access.roles import Role
from boletos.platform.access.tokens import JwtSettings
from boletos.platform.access.transport import ClientTls, ServerTls
from boletos.platform.env import ConfigError, env_flag, env_float, env_int, env_str


@dataclass(frozen=True)
class AccessSettings:
    # None: plain text, asked for with GRPC_INSECURE=true.
    tls: ServerTls | None
    # The CA that signed the other services' certificates, for the calls this one makes.
    peer_ca_file: str
    reflection: bool
    jwt: JwtSettings | None
    # Keys from the deployment's secret files (AUTH_ADMIN_KEY_FILE, AUTH_SERVICE_KEY_FILE),
    # added to the key directory at start unless already there: (key, name, role).
    seed_keys: tuple[tuple[str, str, Role], ...] = ()
    stream_limits: StreamLimits = StreamLimits()

    @property
    def client_tls(self) -> ClientTls:
        """For calls to the other services: their CA, and this service's own certificate,
        which a peer asking for mutual TLS checks."""
        if self.tls is None:
            return ClientTls(insecure=True)
        return ClientTls(self.peer_ca_file, self.tls.cert_file, self.tls.key_file)

    @classmethod
    def read(cls, env: Mapping[str, str]) -> AccessSettings:
        insecure = env_flag(env, "GRPC_INSECURE")
        cert = _file(env, "GRPC_TLS_CERT")
        key = _file(env, "GRPC_TLS_KEY")
        client_ca = _file(env, "GRPC_TLS_CLIENT_CA")
        tls: ServerTls | None = None
        if cert or key:
            if not (cert and key):
                raise ConfigError("GRPC_TLS_CERT and GRPC_TLS_KEY go together; one is unset")
            tls = ServerTls(cert, key, client_ca)
        elif not insecure:
            raise ConfigError(
                "GRPC_TLS_CERT and GRPC_TLS_KEY are required (TLS on the gRPC port); "
                "GRPC_INSECURE=true serves plain text instead, on a trusted network only"
            )
        return cls(
            tls=None if insecure and tls is None else tls,
            peer_ca_file=_file(env, "GRPC_TLS_CA"),
            reflection=env_flag(env, "GRPC_REFLECTION"),
            jwt=_jwt(env),
            seed_keys=tuple(
                (key, name, role)
                for key, name, role in (
                    (env_key_file(env, "AUTH_ADMIN_KEY_FILE"), "admin (secret file)", Role.ADMIN),
                    (
                        env_key_file(env, "AUTH_SERVICE_KEY_FILE"),
                        "services (secret file)",
                        Role.SERVICE,
                    ),
                )
                if key
            ),
            stream_limits=StreamLimits(
                per_caller=env_int(
                    env, "GRPC_MAX_STREAMS_PER_CALLER", StreamLimits.per_caller, minimum=1
                ),
                total=env_int(env, "GRPC_MAX_STREAMS", StreamLimits.total, minimum=1),
            ),
        )

    def masked(self) -> dict[str, object]:
        return {
            "tls": "off (GRPC_INSECURE)" if self.tls is None else "on",
            "mutual_tls": bool(self.tls and self.tls.client_ca_file),
            "reflection": self.reflection,
            "jwt_issuer": self.jwt.issuer if self.jwt else "",
            "seed_keys": [role.value for _, _, role in self.seed_keys],
            "max_streams_per_caller": self.stream_limits.per_caller,
            "max_streams": self.stream_limits.total,
        }


def env_key_file(env: Mapping[str, str], name: str, *, required: bool = False) -> str:
    """The API key held in the file a variable names ("" when unset and not required)."""
    path = env_str(env, name, "")
    if not path:
        if required:
            raise ConfigError(f"{name} is required: a file holding an API key")
        return ""
    try:
        key = Path(path).read_text().strip()
        parse(key)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {path}: {exc.strerror}") from None
    except MalformedKey:
        raise ConfigError(f"{name}: {path} does not hold an API key (bk_<id>_<secret>)") from None
    return key


def _file(env: Mapping[str, str], name: str) -> str:
    path = env_str(env, name, "")
    if path and not Path(path).is_file():
        raise ConfigError(f"{name}: no such file: {path}")
    return path


def _jwt(env: Mapping[str, str]) -> JwtSettings | None:
    issuer = env_str(env, "AUTH_JWT_ISSUER", "")
    if not issuer:
        return None
    audience = env_str(env, "AUTH_JWT_AUDIENCE", "")
    jwks_url = env_str(env, "AUTH_JWT_JWKS_URL", "")
    public_key = _file(env, "AUTH_JWT_PUBLIC_KEY_FILE")
    if not audience:
        raise ConfigError("AUTH_JWT_AUDIENCE is required with AUTH_JWT_ISSUER")
    if bool(jwks_url) == bool(public_key):
        raise ConfigError(
            "with AUTH_JWT_ISSUER, set exactly one of AUTH_JWT_JWKS_URL and "
            "AUTH_JWT_PUBLIC_KEY_FILE"
        )
    if jwks_url and not jwks_url.startswith("https://") and not _loopback(jwks_url):
        raise ConfigError("AUTH_JWT_JWKS_URL must be https:// (or on this machine)")
    return JwtSettings(
        issuer=issuer,
        audience=audience,
        jwks_url=jwks_url,
        public_key_file=public_key,
        roles_claim=env_str(env, "AUTH_JWT_ROLES_CLAIM", "roles"),
        leeway_seconds=env_float(env, "AUTH_JWT_LEEWAY_SECONDS", 30.0, minimum=0),
    )


def _loopback(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
