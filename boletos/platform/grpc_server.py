"""Builds a grpc.aio server with health checking and reflection, and stops it gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from boletos.platform.logs import get_logger

log = get_logger("grpc")

# Enough for 64 KiB chunks with ample headroom; a client sending bigger messages gets a
# clear RESOURCE_EXHAUSTED instead of the server buffering arbitrary amounts.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class GrpcServer:
    """A grpc.aio server that reports SERVING for the given services while it runs."""

    def __init__(
        self,
        listen_addr: str,
        service_names: Iterable[str],
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    ) -> None:
        self.server = grpc.aio.server(
            interceptors=list(interceptors),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        self.service_names = list(service_names)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port = self.server.add_insecure_port(listen_addr)
        if self.port == 0:
            raise OSError(f"cannot listen on {listen_addr}")

    def add(self, register: Callable[[object, grpc.aio.Server], None], servicer: object) -> None:
        register(servicer, self.server)

    async def start(self) -> None:
        await self.server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float) -> None:
        # Tell load balancers first, then let in-flight calls finish within the grace period.
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
