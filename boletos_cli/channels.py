"""Where each service listens, how to reach it securely, and how to open a channel to it.

Every command resolves addresses and credentials here so the flag, the environment
variable and the default mean the same thing everywhere. Channels use TLS, checking the
server against BOLETOS_CA_FILE (or the system's roots), and send BOLETOS_API_KEY (or the
key in BOLETOS_API_KEY_FILE) as a bearer credential; `source .stack/cli.env` sets all of
that for the local stack.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.rpc.error_details_pb2 import ErrorInfo

from boletos.platform.access import transport
from boletos.platform.access.transport import ClientTls
from boletos.platform.errors import details_of
from boletos.platform.grpc_server import MAX_MESSAGE_BYTES
from boletos_cli.failures import CliError


@dataclass(frozen=True)
class ServiceAddress:
    """How a user points the CLI at one service."""

    name: str
    flag: str
    env_var: str
    default: str


INGEST = ServiceAddress("ingest", "--ingest", "BOLETOS_INGEST_ADDR", "localhost:50051")
BOLETO = ServiceAddress("boleto", "--boleto", "BOLETOS_BOLETO_ADDR", "localhost:50052")
MAILER = ServiceAddress("mailer", "--mailer", "BOLETOS_MAILER_ADDR", "localhost:50053")
SERVICES = (INGEST, BOLETO, MAILER)


@dataclass(frozen=True)
class Endpoints:
    ingest: str
    boleto: str
    mailer: str


@dataclass(frozen=True)
class ClientAccess:
    tls: ClientTls
    api_key: str


# Set once per command from its flags and environment (see configure).
_access = ClientAccess(ClientTls(), "")


def configure(access: ClientAccess) -> None:
    global _access
    _access = access


def add_access_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("security")
    group.add_argument(
        "--ca-file",
        metavar="PEM",
        help="CA certificate the services' certificates are checked against "
        "(env BOLETOS_CA_FILE; default the system's roots)",
    )
    group.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="file holding the API key to call with (env BOLETOS_API_KEY_FILE, or the key "
        "itself in BOLETOS_API_KEY)",
    )


def access_from(args: argparse.Namespace, env: Mapping[str, str]) -> ClientAccess:
    key_file = getattr(args, "api_key_file", None) or env.get("BOLETOS_API_KEY_FILE", "")
    api_key = env.get("BOLETOS_API_KEY", "").strip()
    if key_file:
        try:
            api_key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise CliError(f"cannot read the API key file {key_file}: {exc.strerror}") from None
    insecure = env.get("BOLETOS_INSECURE", "").strip().lower() in ("1", "true", "yes")
    tls = ClientTls(
        ca_file=getattr(args, "ca_file", None) or env.get("BOLETOS_CA_FILE", "").strip(),
        cert_file=env.get("BOLETOS_CLIENT_CERT", "").strip(),
        key_file=env.get("BOLETOS_CLIENT_KEY", "").strip(),
        insecure=insecure,
    )
    for path in (tls.ca_file, tls.cert_file, tls.key_file):
        if path and not Path(path).is_file():
            raise CliError(f"no such file: {path}")
    return ClientAccess(tls, api_key)


def add_address_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("service addresses")
    for service in SERVICES:
        group.add_argument(
            service.flag,
            dest=f"{service.name}_addr",
            metavar="ADDR",
            help=f"{service.name} service host:port (env {service.env_var}, "
            f"default {service.default})",
        )


def resolve(args: argparse.Namespace, env: Mapping[str, str]) -> Endpoints:
    def pick(service: ServiceAddress) -> str:
        flag = getattr(args, f"{service.name}_addr", None)
        return flag or env.get(service.env_var, "").strip() or service.default

    return Endpoints(ingest=pick(INGEST), boleto=pick(BOLETO), mailer=pick(MAILER))


def open_channel(address: str, access: ClientAccess | None = None) -> grpc.aio.Channel:
    access = access or _access
    # Match the servers' message limit so a large summary or batch is never cut short here.
    return transport.channel(
        address,
        access.tls,
        access.api_key,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )


@asynccontextmanager
async def service_channel(service: str, address: str) -> AsyncIterator[grpc.aio.Channel]:
    """A channel whose failed calls surface as one line naming the service and address."""
    channel = open_channel(address)
    try:
        yield channel
    except grpc.aio.AioRpcError as exc:
        raise CliError(describe_failure(service, address, exc)) from exc
    finally:
        await channel.close()


# How grpc words a failed TLS handshake in an UNAVAILABLE's details ("Tls handshake failed
# (TSI_PROTOCOL_FAILURE): ... CERTIFICATE_VERIFY_FAILED"): the service is up, but the
# command does not trust its certificate (or the name in it does not match).
_TLS_FAILURE = re.compile(r"\b(ssl|tls|handshake|certificate)", re.IGNORECASE)
TLS_HINT = (
    " (a certificate problem, not a stopped service: this command does not trust the "
    "service's certificate; set BOLETOS_CA_FILE (or --ca-file) to the CA that signed it, or "
    "`source .stack/cli.env` for the local stack)"
)
UNREACHABLE_HINT = (
    " (is it running? `make run` starts a local stack; its CA and key are in "
    "`source .stack/cli.env`)"
)


def tls_failure(exc: grpc.aio.AioRpcError) -> bool:
    return exc.code() == grpc.StatusCode.UNAVAILABLE and bool(
        _TLS_FAILURE.search(exc.details() or "")
    )


def describe_failure(service: str, address: str, exc: grpc.aio.AioRpcError) -> str:
    """One line: which service, what went wrong, and the server's reason code if it gave one."""
    details = " ".join((exc.details() or "").split())
    line = f"{service} service at {address}: {exc.code().name}: {details}"
    reasons = [d.reason for d in details_of(exc) if isinstance(d, ErrorInfo)]
    if reasons:
        line += f" [{reasons[0]}]"
    if tls_failure(exc):
        line += TLS_HINT
    elif exc.code() == grpc.StatusCode.UNAVAILABLE:
        line += UNREACHABLE_HINT
    elif exc.code() == grpc.StatusCode.UNIMPLEMENTED:
        line += " (the service does not offer this call: it is older than this command)"
    elif exc.code() == grpc.StatusCode.UNAUTHENTICATED:
        line += " (set BOLETOS_API_KEY, or `source .stack/cli.env` for the local stack)"
    return line
