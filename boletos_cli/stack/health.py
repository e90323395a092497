"""Readiness checks: a port that accepts connections, a JetStream that answers its API, a gRPC
health check that says SERVING."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import grpc
import nats
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.errors import Error as NatsError

from boletos.platform.access import transport
from boletos.platform.access.transport import ClientTls
from boletos_cli.stack.children import Child
from boletos_cli.stack.layout import StackError

POLL_SECONDS = 0.2


async def wait_for_port(child: Child, host: str, port: int, limit: float) -> None:
    try:
        async with asyncio.timeout(limit):
            while not await _accepts(host, port):
                _raise_if_exited(child)
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise StackError(
            f"{child.name} is not listening on {host}:{port} after {limit:g}s; "
            f"last lines of its log:\n{child.tail_text()}"
        ) from None


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def wait_jetstream(child: Child, url: str, limit: float, login: Mapping[str, str]) -> None:
    """Until the server answers JetStream's account info: in a cluster, only once a meta
    leader is elected, which is what creating a stream needs. `login`: nats.connect()'s
    user and password of the probe user."""
    last = "no answer yet"
    try:
        async with asyncio.timeout(limit):
            while True:
                _raise_if_exited(child)
                try:
                    nc = await nats.connect(
                        url, allow_reconnect=False, connect_timeout=1, error_cb=_quiet, **login
                    )
                    try:
                        await nc.jetstream(timeout=1).account_info()
                        return
                    finally:
                        await nc.close()
                except (NatsError, OSError, TimeoutError) as exc:
                    last = str(exc) or type(exc).__name__
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise StackError(
            f"{child.name} has no JetStream ready at {url} after {limit:g}s (last: {last}); "
            f"last lines of its log:\n{child.tail_text()}"
        ) from None


async def _quiet(_exc: Exception) -> None:
    """What fails is retried and reported at the end; nats-py would log every attempt."""


async def wait_serving(child: Child, address: str, limit: float, ca_file: Path) -> None:
    """Poll grpc.health.v1 for the server as a whole ("") until it reports SERVING. Health
    checking needs no credential, only the CA to trust the service's certificate."""
    last = "no answer yet"
    # Loopback only: a proxy configured for the outside world must not get in the way.
    options = [("grpc.enable_http_proxy", 0)]
    async with transport.channel(address, ClientTls(str(ca_file)), options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="")
        try:
            async with asyncio.timeout(limit):
                while True:
                    _raise_if_exited(child)
                    try:
                        response = await stub.Check(request, timeout=1)
                    except grpc.aio.AioRpcError as exc:
                        last = exc.code().name
                    else:
                        if response.status == health_pb2.HealthCheckResponse.SERVING:
                            return
                        last = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
                    await asyncio.sleep(POLL_SECONDS)
        except TimeoutError:
            raise StackError(
                f"{child.name} did not report SERVING on {address} within {limit:g}s "
                f"(last: {last}); last lines of its log:\n{child.tail_text()}"
            ) from None


def _raise_if_exited(child: Child) -> None:
    if child.returncode is not None:
        raise StackError(
            f"{child.name} exited with code {child.returncode} while starting; "
            f"last lines of its log:\n{child.tail_text()}"
        )
