"""The three services as the gateway calls them: one channel each, any RPC by its path, and
the caller's own credential on every call (the gateway has none), so the services' roles,
limits and audit apply to the person behind the HTTP request exactly as over gRPC."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from boletos.platform.access import transport
from boletos.v1 import boleto_pb2, ingest_pb2, keys_pb2, mailer_pb2

# Which address serves each proto service: ingest keeps the API keys too.
SERVED_BY = {
    "IngestService": "ingest",
    "KeyService": "ingest",
    "BoletoService": "boleto",
    "MailerService": "mailer",
}
_MODULES = (ingest_pb2, keys_pb2, boleto_pb2, mailer_pb2)


@functools.cache
def method(path: str) -> MethodDescriptor:
    """The RPC a path such as /boletos.v1.IngestService/GetUpload names (looked up once)."""
    service, _, name = path.strip("/").partition("/")
    for module in _MODULES:
        for described in module.DESCRIPTOR.services_by_name.values():
            if described.full_name == service:
                return described.methods_by_name[name]
    raise KeyError(path)


def request_for(path: str) -> Message:
    return GetMessageClass(method(path).input_type)()


@dataclass(frozen=True)
class Addresses:
    ingest: str
    boleto: str
    mailer: str


class Services:
    def __init__(self, addresses: Addresses, tls: transport.ClientTls) -> None:
        self._channels = {
            name: transport.channel(getattr(addresses, name), tls)
            for name in ("ingest", "boleto", "mailer")
        }

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()

    def _callable(self, path: str, kind: str) -> Callable[..., Any]:
        described = method(path)
        channel = self._channels[SERVED_BY[described.containing_service.name]]
        factory = getattr(channel, kind)
        return factory(
            path,
            request_serializer=GetMessageClass(described.input_type).SerializeToString,
            response_deserializer=GetMessageClass(described.output_type).FromString,
        )

    async def unary(self, path: str, request: Message, authorization: str) -> Message:
        call = self._callable(path, "unary_unary")
        return await call(request, metadata=_metadata(authorization))

    def server_stream(
        self, path: str, request: Message, authorization: str
    ) -> grpc.aio.UnaryStreamCall:
        call = self._callable(path, "unary_stream")
        return call(request, metadata=_metadata(authorization))

    async def client_stream(
        self, path: str, requests: AsyncIterator[Message], authorization: str
    ) -> Message:
        call = self._callable(path, "stream_unary")
        answer: Message = await call(requests, metadata=_metadata(authorization))
        return answer


def _metadata(authorization: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", authorization),) if authorization else ()
