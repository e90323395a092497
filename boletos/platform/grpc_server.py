"""Builds a grpc.aio server with health checking and reflection, and stops it gracefully."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

from boletos.platform.access.transport import ServerTls, server_credentials
from boletos.platform.logs import get_logger

log = get_logger("grpc")

# Enough for 64 KiB chunks with ample headroom; a client sending bigger messages gets a
# clear RESOURCE_EXHAUSTED instead of the server buffering arbitrary amounts.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class GrpcServer:
    """A grpc.aio server that reports SERVING for the given services while it runs."""

    def __init__(
        self,
        listen_addr: str,
        service_names: Iterable[str],
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        *,
        tls: ServerTls | None,
        serve_reflection: bool,
        health_listen_addr: str = "",
    ) -> None:
        """`tls` None serves plain text; reflection, when on, answers authenticated callers
        only (the access interceptor sees to it). `health_listen_addr` adds a plain-text port
        that answers health checks and nothing else, for probes that cannot speak TLS."""
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
        if serve_reflection:
            _add_reflection(
                [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME, REFLECTION_V1],
                self.server,
            )
        if tls is None:
            log.warning(
                "grpc.plain_text",
                listen=listen_addr,
                note="GRPC_INSECURE=true: calls and credentials travel unencrypted",
            )
            self.port = self.server.add_insecure_port(listen_addr)
        else:
            self.port = self.server.add_secure_port(listen_addr, server_credentials(tls))
        if self.port == 0:
            raise OSError(f"cannot listen on {listen_addr}")
        self.probe_server: grpc.aio.Server | None = None
        self.probe_port = 0
        if health_listen_addr:
            self.probe_server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.probe_server)
            # Reflection that knows health alone, so `grpcurl -plaintext HOST:PORT
            # grpc.health.v1.Health/Check` works there without the proto or a credential.
            _add_reflection([HEALTH_SERVICE], self.probe_server)
            self.probe_port = self.probe_server.add_insecure_port(health_listen_addr)
            if self.probe_port == 0:
                raise OSError(f"cannot listen on {health_listen_addr}")

    def add(self, register: Callable[[Any, grpc.aio.Server], None], servicer: object) -> None:
        register(servicer, self.server)

    async def start(self) -> None:
        await self.server.start()
        if self.probe_server is not None:
            await self.probe_server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def not_serving(self) -> None:
        """Tells load balancers and probes to look elsewhere; calls are still taken."""
        await self.health.enter_graceful_shutdown()

    async def stop(self, grace: float) -> None:
        """Takes no more calls and lets those in flight finish within the grace period."""
        await self.not_serving()
        await self.server.stop(grace)
        if self.probe_server is not None:
            await self.probe_server.stop(0)


def _add_reflection(service_names: list[str], server: grpc.aio.Server) -> None:
    """Serves reflection as grpc.reflection.v1, which current clients ask for first, and as
    v1alpha for older ones. The two versions are the same messages under another package, so
    one servicer answers both."""
    servicer = ReflectionServicer(service_names)
    reflection.enable_server_reflection(service_names, server)
    _register_v1_descriptor()
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(REFLECTION_V1, {"ServerReflectionInfo": handler})]
    )


def _register_v1_descriptor() -> None:
    """Adds grpc.reflection.v1 to the default pool, derived from the installed v1alpha one, so
    clients can also describe the reflection service itself."""
    pool = descriptor_pool.Default()
    name = "grpc/reflection/v1/reflection.proto"
    try:
        pool.FindFileByName(name)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = "grpc.reflection.v1alpha", "grpc.reflection.v1"
    proto.name, proto.package = name, new
    proto.ClearField("options")
    for message in proto.message_type:
        for field in message.field:
            if field.HasField("type_name"):
                field.type_name = field.type_name.replace(f".{old}.", f".{new}.")
    for service in proto.service:
        for method in service.method:
            method.input_type = method.input_type.replace(f".{old}.", f".{new}.")
            method.output_type = method.output_type.replace(f".{old}.", f".{new}.")
    pool.Add(proto)
