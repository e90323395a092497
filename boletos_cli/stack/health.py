"""Readiness checks: a port that accepts connections, a gRPC health check that says SERVING."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

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
