"""Credentials for tests: one private CA, one certificate good for every service on
127.0.0.1, and an admin and a service API key, made once per test process. Services started
by the tests serve TLS and import both keys (as a deployment's secret files would); test
clients call as admin unless a test says otherwise."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import grpc

from boletos.platform.access import transport
from boletos.platform.access.transport import ClientTls, ServerTls
from boletos.provision import Secrets, ensure_secrets

CERT_OF = "ingest"  # valid for localhost and 127.0.0.1, which is all tests use


@functools.cache
def secrets() -> Secrets:
    directory = Path(tempfile.mkdtemp(prefix="boletos-test-secrets-"))
    atexit.register(shutil.rmtree, directory, True)
    return ensure_secrets(directory / "secrets", services=[CERT_OF])


def admin_key() -> str:
    return secrets().admin_key.read_text().strip()


def service_key() -> str:
    return secrets().service_key.read_text().strip()


def service_env() -> dict[str, str]:
    """What a service started by a test is given: TLS, the keys to import, and a fresh store
    that builds its schema as it starts."""
    return {**secrets().service_env(CERT_OF), "DB_AUTO_MIGRATE": "true"}


def cli_env() -> dict[str, str]:
    """What `boletos` run by a test is given: the CA and the admin key."""
    return {"BOLETOS_CA_FILE": str(secrets().ca), "BOLETOS_API_KEY": admin_key()}


def client_tls() -> ClientTls:
    """Shows the service certificate too, which a service asking for mutual TLS checks
    (the others ignore it)."""
    s = secrets()
    return ClientTls(str(s.ca), str(s.cert(CERT_OF)), str(s.key(CERT_OF)))


def channel(address: str, key: str | None = None) -> grpc.aio.Channel:
    """An async channel to a test service, calling with `key` (the admin key by default)."""
    return transport.channel(address, client_tls(), admin_key() if key is None else key)


def sync_channel(address: str, key: str | None = None) -> grpc.Channel:
    s = secrets()
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(
            s.ca.read_bytes(), s.key(CERT_OF).read_bytes(), s.cert(CERT_OF).read_bytes()
        ),
        grpc.access_token_call_credentials(admin_key() if key is None else key),
    )
    return grpc.secure_channel(address, credentials)


def health_channel(address: str, ca: Path | None = None) -> grpc.Channel:
    """Health checks need TLS but no credential."""
    trusted = (ca or secrets().ca).read_bytes()
    return grpc.secure_channel(address, grpc.ssl_channel_credentials(trusted))


def minimal_env() -> dict[str, str]:
    """The least a service's configuration accepts: plain text (said outright, for the
    gateway's HTTP too) and, for the mailer, its service key."""
    return {
        "GRPC_INSECURE": "true",
        "HTTP_INSECURE": "true",
        "BOLETO_API_KEY_FILE": str(secrets().service_key),
    }


def server_credentials() -> grpc.ServerCredentials:
    """For a test's own fake server: the service certificate the CLI's CA trusts."""
    s = secrets()
    return transport.server_credentials(ServerTls(str(s.cert(CERT_OF)), str(s.key(CERT_OF))))
