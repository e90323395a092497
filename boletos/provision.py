"""The secrets a deployment needs, made once: a private CA, a certificate per service, an admin
API key, a service API key and a NATS password per service, with the nats-server configuration
that knows them. `boletos stack` makes them under its data directory; compose runs this module
in a one-off container (`python -m boletos.provision --dir D`).

Nothing is made again if it exists, so restarting keeps every credential valid. Private keys,
API keys, passwords and the NATS configuration are written readable by their owner only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import secrets as random_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from boletos.platform.access.keys import new_key
from boletos.platform.access.roles import Role
from boletos.platform.nats_permissions import PROBE_USER, USERS, authorization_block
from boletos.platform.payment_links import new_key_line

# The gateway's certificate serves HTTPS and shows the services who calls them.
SERVICES = ("ingest", "boleto", "mailer", "gateway")
CA_DAYS = 3650
CERT_DAYS = 825
# Bytes of randomness in each NATS password.
NATS_PASSWORD_BYTES = 32
# Every certificate is good for this machine too, so the CLI and tests can reach a service
# by 127.0.0.1 or localhost.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Secrets:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    def cert(self, service: str) -> Path:
        return self.directory / f"{service}.pem"

    def key(self, service: str) -> Path:
        return self.directory / f"{service}-key.pem"

    @property
    def admin_key(self) -> Path:
        return self.directory / "admin.key"

    @property
    def service_key(self) -> Path:
        return self.directory / "service.key"

    @property
    def console_session_key(self) -> Path:
        """The key the gateway seals the operator console's session cookies with."""
        return self.directory / "console-session.key"

    @property
    def payment_link_keys(self) -> Path:
        """The keys the mailer signs debtors' payment links with and the boleto service
        checks them with (boletos.platform.payment_links)."""
        return self.directory / "payment-links.keys"

    def nats_password(self, user: str) -> Path:
        return self.directory / f"nats-{user}.password"

    def nats_login(self, user: str) -> dict[str, str]:
        """nats.connect()'s options to log in as `user`."""
        return {"user": user, "password": self.nats_password(user).read_text().strip()}

    def nats_env(self, service: str) -> dict[str, str]:
        """What a service is given to connect to a NATS server that knows its user."""
        return {"NATS_USER": service, "NATS_PASSWORD_FILE": str(self.nats_password(service))}

    def nats_authorization(self) -> str:
        """The nats-server `authorization` block knowing every service's user, and the probe
        user that may only ask JetStream whether it is up, by the passwords made here."""
        passwords = {user: self.nats_password(user).read_text().strip() for user in USERS}
        probe_password = self.nats_password(PROBE_USER).read_text().strip()
        return authorization_block(passwords, probe_password=probe_password)

    @property
    def nats_config(self) -> Path:
        """A nats-server configuration knowing every user made here."""
        return self.directory / "nats-users.conf"

    def service_env(self, service: str) -> dict[str, str]:
        """What a service is given to serve TLS with its certificate, trust the CA for its own
        calls, and import the admin and service keys; the mailer calls the boleto service with
        the service key."""
        return {
            "GRPC_TLS_CERT": str(self.cert(service)),
            "GRPC_TLS_KEY": str(self.key(service)),
            "GRPC_TLS_CA": str(self.ca),
            "AUTH_ADMIN_KEY_FILE": str(self.admin_key),
            "AUTH_SERVICE_KEY_FILE": str(self.service_key),
            "BOLETO_API_KEY_FILE": str(self.service_key),
            "PAYMENT_LINK_KEYS_FILE": str(self.payment_link_keys),
        }


def ensure_secrets(
    directory: Path, services: Sequence[str] = SERVICES, hosts: Sequence[str] = ()
) -> Secrets:
    """Makes whatever of the secrets is missing; `hosts` are extra names every service
    certificate is valid for (compose's service names, say)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    secrets = Secrets(directory)
    now = dt.datetime.now(dt.UTC)
    if not (secrets.ca.exists() and secrets.ca_key.exists()):
        made = ec.generate_private_key(ec.SECP256R1())
        _write_private(secrets.ca_key, made)
        _write(secrets.ca, _ca_certificate(made, now))
    ca_key = serialization.load_pem_private_key(secrets.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(secrets.ca.read_bytes())
    for service in services:
        if secrets.cert(service).exists() and secrets.key(service).exists():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        names = dict.fromkeys([service, *hosts, *LOCAL_NAMES])
        _write_private(secrets.key(service), key)
        _write(
            secrets.cert(service), _service_certificate(service, key, names, ca_cert, ca_key, now)
        )
    for path, name, role in (
        (secrets.admin_key, "admin", Role.ADMIN),
        (secrets.service_key, "services", Role.SERVICE),
    ):
        if not path.exists():
            key_text, _ = new_key(name, role, now)
            _write_secret(path, key_text.encode() + b"\n")
    if not secrets.payment_link_keys.exists():
        _write_secret(secrets.payment_link_keys, new_key_line().encode())
    if not secrets.console_session_key.exists():
        _write_secret(secrets.console_session_key, Fernet.generate_key() + b"\n")
    for user in (*USERS, PROBE_USER):
        if not secrets.nats_password(user).exists():
            password = random_secrets.token_urlsafe(NATS_PASSWORD_BYTES)
            _write_secret(secrets.nats_password(user), password.encode() + b"\n")
    # Written on every call, from the passwords: a release's new permissions take effect at
    # the server's next start.
    _write_secret(secrets.nats_config, secrets.nats_authorization().encode())
    return secrets


def nats_password_variable(user: str) -> str:
    """The environment variable a deployment's nats-server reads `user`'s password from."""
    return f"NATS_PASSWORD_{user.upper()}"


def nats_authorization_from_env() -> str:
    """The nats-server `authorization` block with each service's password read from the
    server's environment (`$NATS_PASSWORD_INGEST` and so on, filled from the deployment's
    Secrets), so the block holds no secret and can be kept with the deployment's files."""
    variables = {user: f"${nats_password_variable(user)}" for user in USERS}
    block = authorization_block(variables)
    for variable in variables.values():
        # A quoted string is taken as it is; only a bare $NAME is looked up.
        block = block.replace(f"password: {json.dumps(variable)}", f"password: {variable}")
    return block


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "boletos local CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _service_certificate(
    service: str,
    key: ec.EllipticCurvePrivateKey,
    names: dict[str, None],
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> bytes:
    alternative: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # Server and client: a service shows the same certificate when it calls another
        # that asks for mutual TLS.
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _write_secret(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    _write_secret(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boletos.provision",
        description=(
            "Make a deployment's CA, service certificates, API keys and NATS passwords, once."
        ),
    )
    parser.add_argument("--dir", type=Path, help="where to keep them")
    parser.add_argument(
        "--hosts",
        default="",
        help="comma-separated extra names the service certificates are valid for",
    )
    parser.add_argument(
        "--nats-config-from-env",
        action="store_true",
        help=(
            "print the nats-server authorization block reading each password from "
            "$NATS_PASSWORD_<USER> (for deployments), and make nothing"
        ),
    )
    args = parser.parse_args(argv)
    if args.nats_config_from_env:
        print(nats_authorization_from_env(), end="")
        return 0
    if args.dir is None:
        parser.error("--dir is required")
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    made = ensure_secrets(args.dir, hosts=hosts)
    print(f"secrets in {made.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
