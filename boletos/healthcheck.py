"""Exit 0 when a gRPC server reports SERVING on grpc.health.v1, 1 otherwise.

Container images carry no grpc_health_probe binary; this uses the health stub the services
already depend on. Usage: ``python -m boletos.healthcheck [ADDR] [--service NAME]``, where ADDR
defaults to the port of GRPC_LISTEN_ADDR on the loopback interface. It speaks to the server as
the service's own environment says: TLS checked against GRPC_TLS_CA, showing the service's
certificate (for mutual TLS), unless GRPC_INSECURE=true. Health checks need no credential.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEFAULT_LISTEN_ADDR = "127.0.0.1:50051"


def local_target(listen_addr: str) -> str:
    """Where to reach a server listening on ``listen_addr`` from inside its own host."""
    host, _, port = listen_addr.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::", "*"):
        host = "127.0.0.1"
    return f"{host}:{port}"


def _channel(target: str) -> grpc.Channel:
    if os.environ.get("GRPC_INSECURE", "").strip().lower() in ("1", "true", "yes", "on"):
        return grpc.insecure_channel(target)

    def read(name: str) -> bytes | None:
        path = os.environ.get(name, "").strip()
        return Path(path).read_bytes() if path else None

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read("GRPC_TLS_CA"),
        private_key=read("GRPC_TLS_KEY"),
        certificate_chain=read("GRPC_TLS_CERT"),
    )
    return grpc.secure_channel(target, credentials)


def check(target: str, service: str = "", timeout: float = 3.0) -> bool:
    with _channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gRPC health check")
    parser.add_argument(
        "target",
        nargs="?",
        default=local_target(os.environ.get("GRPC_LISTEN_ADDR") or DEFAULT_LISTEN_ADDR),
    )
    parser.add_argument("--service", default="", help="service name; empty means the server")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    if check(args.target, args.service, args.timeout):
        return 0
    print(f"{args.target}: not SERVING", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
