"""TLS for servers and channels, and the bearer credential a client sends on every call.

Servers take a certificate and key, and optionally a CA: with it, a client must present a
certificate that CA signed (mutual TLS). Channels verify the server against a CA file (or the
system's roots) and present their own certificate when given one. The credential travels as
`authorization: Bearer ...` metadata added by a client interceptor, which also works over the
plain-text channels GRPC_INSECURE allows (gRPC's own call credentials refuse those).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from boletos.platform import tracing


@dataclass(frozen=True)
class ServerTls:
    cert_file: str
    key_file: str
    # Clients must present a certificate this CA signed.
    client_ca_file: str = ""


def server_credentials(tls: ServerTls) -> grpc.ServerCredentials:
    pair = (_read(tls.key_file), _read(tls.cert_file))
    client_ca = _read(tls.client_ca_file) if tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


@dataclass(frozen=True)
class ClientTls:
    """How a channel checks the server, and which certificate it shows for mutual TLS."""

    ca_file: str = ""  # empty: the system's roots
    cert_file: str = ""
    key_file: str = ""
    insecure: bool = False  # plain text, for a trusted network only


def channel(
    target: str,
    tls: ClientTls,
    credential: str = "",
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    # The client span outermost, so it times the whole call.
    interceptors = [*tracing.client_interceptors(), *(_bearer(credential) if credential else [])]
    options = [*options, *_authority(target, options)]
    if tls.insecure:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    creds = grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca_file) if tls.ca_file else None,
        private_key=_read(tls.key_file) if tls.key_file else None,
        certificate_chain=_read(tls.cert_file) if tls.cert_file else None,
    )
    return grpc.aio.secure_channel(target, creds, options=options, interceptors=interceptors)


def _authority(target: str, options: Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    """gRPC names a multi-address `ipv4:`/`ipv6:` target by the whole list, which no
    certificate can match; the first address's host stands for all of them."""
    scheme, _, addresses = target.partition(":")
    if scheme not in ("ipv4", "ipv6") or "," not in addresses:
        return []
    if any(name == "grpc.default_authority" for name, _ in options):
        return []
    host = addresses.split(",")[0].lstrip("/").rsplit(":", 1)[0]
    return [("grpc.default_authority", host)]


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def _with_credential(
    details: grpc.aio.ClientCallDetails, header: str
) -> grpc.aio.ClientCallDetails:
    metadata = [m for m in (details.metadata or ()) if m[0] != "authorization"]
    metadata.append(("authorization", header))
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout,
        grpc.aio.Metadata(*metadata),
        details.credentials,
        details.wait_for_ready,
    )


def _bearer(credential: str) -> list[grpc.aio.ClientInterceptor]:
    header = f"Bearer {credential}"

    class UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
        async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            return await continuation(_with_credential(details, header), request)

    class UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
        async def intercept_unary_stream(
            self, continuation: Any, details: Any, request: Any
        ) -> Any:
            return await continuation(_with_credential(details, header), request)

    class StreamUnary(grpc.aio.StreamUnaryClientInterceptor):
        async def intercept_stream_unary(
            self, continuation: Any, details: Any, request_iterator: Any
        ) -> Any:
            return await continuation(_with_credential(details, header), request_iterator)

    class StreamStream(grpc.aio.StreamStreamClientInterceptor):
        async def intercept_stream_stream(
            self, continuation: Any, details: Any, request_iterator: Any
        ) -> Any:
            return await continuation(_with_credential(details, header), request_iterator)

    return [UnaryUnary(), UnaryStream(), StreamUnary(), StreamStream()]
