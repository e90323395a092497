"""Where each service listens, as the user chose it, and how to open a channel to it.

Every command resolves addresses here so the flag, the environment variable and the
default mean the same thing everywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from google.rpc.error_details_pb2 import ErrorInfo

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


def open_channel(address: str) -> grpc.aio.Channel:
    # Match the servers' message limit so a large summary or batch is never cut short here.
    return grpc.aio.insecure_channel(
        address,
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


def describe_failure(service: str, address: str, exc: grpc.aio.AioRpcError) -> str:
    """One line: which service, what went wrong, and the server's reason code if it gave one."""
    details = " ".join((exc.details() or "").split())
    line = f"{service} service at {address}: {exc.code().name}: {details}"
    reasons = [d.reason for d in details_of(exc) if isinstance(d, ErrorInfo)]
    if reasons:
        line += f" [{reasons[0]}]"
    if exc.code() == grpc.StatusCode.UNAVAILABLE:
        line += " (is it running? `make run` starts a local stack)"
    return line
