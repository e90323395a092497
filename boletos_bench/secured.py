"""Benchmarked services run as in production: TLS on their ports and calls with a key. One
private CA and certificate per bench run (good for 127.0.0.1), made in its work directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from boletos.platform.access import transport
from boletos.platform.access.transport import ClientTls
from boletos.provision import Secrets, ensure_secrets

CERT_OF = "bench"


@dataclass(frozen=True)
class BenchAccess:
    secrets: Secrets

    def service_env(self) -> dict[str, str]:
        """TLS and keys; and the fresh store of each run builds its own schema."""
        return {**self.secrets.service_env(CERT_OF), "DB_AUTO_MIGRATE": "true"}

    def channel(self, address: str) -> grpc.aio.Channel:
        """Calls as admin, which every RPC allows."""
        key = self.secrets.admin_key.read_text().strip()
        return transport.channel(address, ClientTls(ca_file=str(self.secrets.ca)), key)


def bench_access(workdir: Path) -> BenchAccess:
    return BenchAccess(ensure_secrets(workdir / "secrets", services=[CERT_OF]))
