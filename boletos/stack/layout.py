"""Which services a local stack runs, on which ports, and with which configuration.

Ports are laid out from one base so a second stack (or a test) only has to move one
number: ingest P, boleto P+1, mailer P+2, NATS P+3, SMTP catcher P+4.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import boletos


class StackError(Exception):
    """The stack cannot start or keep running; the message says which part and why."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port_offset: int

    def exists(self) -> bool:
        # Services land one at a time; the stack runs whichever are present.
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False


SERVICES = (
    ServiceSpec("ingest", "ingest_service", 0),
    ServiceSpec("boleto", "boleto_service", 1),
    ServiceSpec("mailer", "mailer_service", 2),
)
BOLETO = next(spec for spec in SERVICES if spec.name == "boleto")
NATS_PORT_OFFSET = 3
# Where the mailer's SMTP catcher listens in a local stack; kept free from the start so
# adding the catcher never shifts the other ports.
SMTP_CATCHER_PORT_OFFSET = 4

DEFAULT_BASE_PORT = 50051
DEFAULT_DATA_DIR = Path(".stack")
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class StackLayout:
    data_dir: Path
    base_port: int = DEFAULT_BASE_PORT

    def __post_init__(self) -> None:
        if not 1024 <= self.base_port <= 65535 - SMTP_CATCHER_PORT_OFFSET:
            raise StackError(
                f"base port {self.base_port} out of range: it and the "
                f"{SMTP_CATCHER_PORT_OFFSET} ports after it must lie in 1024..65535"
            )

    @property
    def nats_port(self) -> int:
        return self.base_port + NATS_PORT_OFFSET

    @property
    def nats_url(self) -> str:
        return f"nats://{LOOPBACK}:{self.nats_port}"

    @property
    def nats_store(self) -> Path:
        return self.data_dir / "nats"

    @property
    def smtp_catcher_port(self) -> int:
        return self.base_port + SMTP_CATCHER_PORT_OFFSET

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    def service_address(self, spec: ServiceSpec) -> str:
        return f"{LOOPBACK}:{self.base_port + spec.port_offset}"

    def database_path(self, spec: ServiceSpec) -> Path:
        return self.data_dir / f"{spec.name}.db"

    def reserved_ports(self) -> dict[str, int]:
        ports = {spec.name: self.base_port + spec.port_offset for spec in SERVICES}
        ports["nats"] = self.nats_port
        ports["smtp catcher"] = self.smtp_catcher_port
        return ports

    def service_env(self, spec: ServiceSpec, inherited: Mapping[str, str]) -> dict[str, str]:
        env = dict(inherited)
        env.update(
            GRPC_LISTEN_ADDR=self.service_address(spec),
            DATABASE_URL=f"sqlite:///{self.database_path(spec).resolve()}",
            NATS_URL=self.nats_url,
            LOG_FORMAT="console",
            # Within the stack's own grace period, so a service finishes draining before
            # the stack would kill it.
            SHUTDOWN_GRACE_SECONDS="8",
            # Log lines are forwarded as they come; a buffered child would lag behind.
            PYTHONUNBUFFERED="1",
        )
        if spec.name == "mailer":
            env.update(
                SMTP_HOST=LOOPBACK,
                SMTP_PORT=str(self.smtp_catcher_port),
                BOLETO_ADDR=self.service_address(BOLETO),
            )
        checkout = _source_checkout()
        if checkout is not None:
            # Run from a checkout rather than installed: children must import the same tree
            # whatever directory the stack was started from.
            env["PYTHONPATH"] = _prepend_path(str(checkout), env.get("PYTHONPATH", ""))
        return env


def check_ports_free(layout: StackLayout) -> None:
    busy = [f"{port} ({name})" for name, port in layout.reserved_ports().items() if _busy(port)]
    if busy:
        raise StackError(
            f"port(s) already in use: {', '.join(busy)}; stop whatever holds them or pick "
            "another --base-port"
        )


def _busy(port: int) -> bool:
    with socket.socket() as probe:
        # Without SO_REUSEADDR the TIME_WAIT sockets of a stack just stopped would look busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


def _source_checkout() -> Path | None:
    root = Path(boletos.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def _prepend_path(entry: str, current: str) -> str:
    parts = [p for p in current.split(os.pathsep) if p and p != entry]
    return os.pathsep.join([entry, *parts])
