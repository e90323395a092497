"""Which services a local stack runs, on which ports, and with which configuration.

Ports are laid out from one base so a second stack (or a test) only has to move one
number: ingest P, boleto P+1, mailer P+2, NATS P+3, SMTP catcher P+4, and each service's
Prometheus metrics on its gRPC port + 5 (P+5, P+6, P+7). Replica n of a service takes its
first replica's two ports + 10(n-1), so boleto-2 serves gRPC on P+11 and metrics on P+16:
scaling one service never moves another's ports. A NATS cluster follows the same rows: node
n takes clients on P+3 + 10(n-1) and its cluster routes on P+9 + 10(n-1).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boletos
from boletos.provision import Secrets
from boletos_cli.stack import postgres

# The rest of the stack imports it from here.
from boletos_cli.stack.errors import StackError


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
# Free in every row: the services' rows use 0-2 and 5-7, the SMTP catcher 4 of the first.
NATS_ROUTE_PORT_OFFSET = 9
# One server, or a cluster that outlives the loss of one node (3) or two (5); an even count
# survives no more losses than the odd count below it.
NATS_CLUSTER_SIZES = (1, 3, 5)
# Each stream is kept on this many nodes at most; more only slows every write.
MAX_STREAM_REPLICAS = 3
# Where the mailer's SMTP catcher listens in a local stack; kept free from the start so
# adding the catcher never shifts the other ports.
SMTP_CATCHER_PORT_OFFSET = 4
METRICS_PORT_OFFSET = 5
# The catcher's e-mails in a browser: free in the first row (8 is no service's).
MAIL_VIEWER_PORT_OFFSET = 8
# With --traces, the OTLP/gRPC receiver: 4 is the catcher's in the first row only, and free
# in the second whatever the replicas and NATS nodes.
TRACE_CATCHER_PORT_OFFSET = 14
# The HTTP gateway (REST, /docs) and its metrics: the fourth column is the SMTP catcher's in
# the first row and the trace catcher's in the second; the third's and fourth's are free
# whatever the replicas (theirs are 0-2 and 5-7) and NATS nodes (3 and 9).
GATEWAY_PORT_OFFSET = 24
GATEWAY_METRICS_PORT_OFFSET = 34
GATEWAY = "gateway"
REPLICA_PORT_STRIDE = 10
# Far more than two cores can use; the bound keeps a typo from claiming hundreds of ports.
MAX_REPLICAS = 8

# Seconds an upload's boletos must stay quiet before the stack's boleto service writes their
# remessa: short, so `make run` shows one within moments of its sample upload.
STACK_REMESSA_QUIET_SECONDS = 10

# The boleto service's built-in example beneficiary (Banco do Brasil, agência 1234, carteira
# 18) needs these two more before it may write a BB remessa: the agência's check digit
# (módulo 11, weights 5 to 2) and the carteira's variação. Given only when the environment
# names no beneficiary of its own, whose numbers these would not fit.
DEMO_REMESSA_BENEFICIARY = {"BENEFICIARY_AGENCIA_DV": "3", "BENEFICIARY_VARIACAO_CARTEIRA": "019"}

DEFAULT_BASE_PORT = 50051
DEFAULT_DATA_DIR = Path(".stack")
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Replica:
    """One process of a service; named after the service alone when it is the only one."""

    spec: ServiceSpec
    index: int
    name: str


@dataclass(frozen=True)
class NatsNode:
    """One nats-server; named "nats" when it is the only one."""

    index: int
    name: str
    client_port: int
    route_port: int
    store: Path

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.client_port}"

    @property
    def route_url(self) -> str:
        return f"nats://{LOOPBACK}:{self.route_port}"


@dataclass(frozen=True)
class StackLayout:
    data_dir: Path
    base_port: int = DEFAULT_BASE_PORT
    # Processes per service by name; a service not named runs one.
    replicas: Mapping[str, int] = field(default_factory=dict, hash=False)
    # A database URL per service by name (PostgreSQL, as in production); a service not
    # named keeps a SQLite file in data_dir.
    databases: Mapping[str, str] = field(default_factory=dict, hash=False)
    # nats-server processes; more than one form a JetStream cluster.
    nats_cluster: int = 1
    # An administrative PostgreSQL URL: every service not named in `databases` gets a
    # database and role of its own on that server (see postgres.py).
    postgres: str | None = None
    # A simulated bank (`boletos bank --follow --send`) answering the boleto service's
    # remessas, so the loop from upload to payment runs on one machine.
    bank: bool = False
    # An OTLP receiver writing the services' spans to traces_file.
    traces: bool = False

    def __post_init__(self) -> None:
        if self.nats_cluster not in NATS_CLUSTER_SIZES:
            sizes = " or ".join(str(n) for n in NATS_CLUSTER_SIZES)
            raise StackError(f"nats-cluster: {self.nats_cluster} nodes; run {sizes}")
        if self.postgres is not None:
            postgres.admin_url(self.postgres)
        known = [spec.name for spec in SERVICES]
        for name in self.databases:
            if name not in known:
                raise StackError(
                    f"database: unknown service {name!r}; the services are {', '.join(known)}"
                )
        for name, count in self.replicas.items():
            if name not in known:
                raise StackError(
                    f"replicas: unknown service {name!r}; the services are {', '.join(known)}"
                )
            if not 1 <= count <= MAX_REPLICAS:
                raise StackError(
                    f"replicas: {name}={count}: a service runs 1 to {MAX_REPLICAS} processes"
                )
        top = max(self.reserved_ports().values())
        if not 1024 <= self.base_port or top > 65535:
            raise StackError(
                f"base port {self.base_port} out of range: the stack uses ports "
                f"{self.base_port}..{top}, which must lie in 1024..65535"
            )

    @property
    def nats_nodes(self) -> list[NatsNode]:
        if self.nats_cluster == 1:
            return [self._nats_node(1, "nats")]
        return [self._nats_node(n, f"nats-{n}") for n in range(1, self.nats_cluster + 1)]

    def _nats_node(self, index: int, name: str) -> NatsNode:
        row = self.base_port + REPLICA_PORT_STRIDE * (index - 1)
        # A node's store is its own for good: restarted, it rejoins with what it had.
        store = self.data_dir / name
        return NatsNode(index, name, row + NATS_PORT_OFFSET, row + NATS_ROUTE_PORT_OFFSET, store)

    @property
    def nats_port(self) -> int:
        """The first node's client port."""
        return self.nats_nodes[0].client_port

    @property
    def nats_url(self) -> str:
        """Every node, as NATS_URL lists them: a client moves to another when one goes."""
        return ",".join(node.url for node in self.nats_nodes)

    @property
    def nats_cluster_name(self) -> str:
        return f"boletos-{self.base_port}"

    @property
    def stream_replicas(self) -> int:
        return min(self.nats_cluster, MAX_STREAM_REPLICAS)

    @property
    def smtp_catcher_port(self) -> int:
        return self.base_port + SMTP_CATCHER_PORT_OFFSET

    @property
    def mail_viewer_port(self) -> int:
        return self.base_port + MAIL_VIEWER_PORT_OFFSET

    @property
    def mail_viewer_url(self) -> str:
        return f"http://{LOOPBACK}:{self.mail_viewer_port}/"

    @property
    def trace_catcher_port(self) -> int:
        return self.base_port + TRACE_CATCHER_PORT_OFFSET

    @property
    def traces_file(self) -> Path:
        return self.data_dir / "traces.jsonl"

    @property
    def gateway_port(self) -> int:
        return self.base_port + GATEWAY_PORT_OFFSET

    @property
    def gateway_url(self) -> str:
        return f"https://{LOOPBACK}:{self.gateway_port}"

    def gateway_env(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The gateway in front of this stack's services, over HTTPS with the stack's CA."""
        secrets = self.secrets
        env = dict(inherited)
        env.update(
            HTTP_LISTEN_ADDR=f"{LOOPBACK}:{self.gateway_port}",
            HTTP_TLS_CERT=str(secrets.cert(GATEWAY)),
            HTTP_TLS_KEY=str(secrets.key(GATEWAY)),
            INGEST_ADDR=self.service_target(SERVICES[0]),
            BOLETO_ADDR=self.service_target(BOLETO),
            MAILER_ADDR=self.service_target(SERVICES[2]),
            GRPC_TLS_CA=str(secrets.ca),
            GRPC_TLS_CERT=str(secrets.cert(GATEWAY)),
            GRPC_TLS_KEY=str(secrets.key(GATEWAY)),
            METRICS_ADDR=f"{LOOPBACK}:{self.base_port + GATEWAY_METRICS_PORT_OFFSET}",
            # Kept across restarts: a restarted gateway keeps the console signed in.
            CONSOLE_SESSION_KEY_FILE=str(secrets.console_session_key),
            LOG_FORMAT="console",
            SHUTDOWN_GRACE_SECONDS="8",
            PYTHONUNBUFFERED="1",
        )
        self._traced(env)
        self._from_checkout(env)
        return env

    def _traced(self, env: dict[str, str]) -> None:
        if self.traces:
            env.update(
                OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{LOOPBACK}:{self.trace_catcher_port}",
                OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
            )
            # Spans reach the file within a second, for a person following an upload.
            env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "1000")

    def _from_checkout(self, env: dict[str, str]) -> None:
        checkout = _source_checkout()
        if checkout is not None:
            # Run from a checkout rather than installed: children must import the same tree
            # whatever directory the stack was started from.
            env["PYTHONPATH"] = _prepend_path(str(checkout), env.get("PYTHONPATH", ""))

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def remessa_dir(self) -> Path:
        """Where the boleto service writes the CNAB 240 files for the bank."""
        return self.data_dir / "remessas"

    @property
    def retorno_dir(self) -> Path:
        """Where the stack's simulated bank writes its answers to the remessas."""
        return self.data_dir / "retornos"

    def bank_argv(self, python: str) -> list[str]:
        return [
            python, "-m", "boletos_cli", "bank",
            "--remessas", str(self.remessa_dir.resolve()),
            "--retornos", str(self.retorno_dir.resolve()),
            "--send", "--follow",
        ]  # fmt: skip

    def bank_env(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The bank calls the boleto service as the stack's admin, as the CLI does after
        `source DATA_DIR/cli.env`; settings of another deployment in the environment would
        point it elsewhere, so they are dropped."""
        env = {k: v for k, v in inherited.items() if not k.startswith("BOLETOS_")}
        env.update(
            BOLETOS_BOLETO_ADDR=self.service_address(BOLETO),
            BOLETOS_CA_FILE=str(self.secrets.ca),
            BOLETOS_API_KEY_FILE=str(self.secrets.admin_key),
            PYTHONUNBUFFERED="1",
        )
        checkout = _source_checkout()
        if checkout is not None:
            env["PYTHONPATH"] = _prepend_path(str(checkout), env.get("PYTHONPATH", ""))
        return env

    @property
    def secrets(self) -> Secrets:
        """The CA, certificates and API keys (made by ensure_secrets on first start)."""
        return Secrets(self.data_dir.resolve() / "secrets")

    @property
    def cli_env(self) -> Path:
        return self.data_dir / "cli.env"

    def cli_env_text(self) -> str:
        """What `source DATA_DIR/cli.env` sets: every CLI command then reaches this stack."""
        addresses = {
            "BOLETOS_INGEST_ADDR": self.service_address(SERVICES[0]),
            "BOLETOS_BOLETO_ADDR": self.service_address(SERVICES[1]),
            "BOLETOS_MAILER_ADDR": self.service_address(SERVICES[2]),
            "BOLETOS_CA_FILE": str(self.secrets.ca),
            "BOLETOS_API_KEY": self.secrets.admin_key.read_text().strip(),
            # For curl and browsers: `curl --cacert "$BOLETOS_CA_FILE" "$BOLETOS_GATEWAY_URL/..."`.
            "BOLETOS_GATEWAY_URL": self.gateway_url,
        }
        lines = [f"export {name}={shlex.quote(value)}" for name, value in addresses.items()]
        return (
            "# Made by `boletos stack`: source it to point the CLI at this stack.\n"
            + "\n".join(lines)
            + "\n"
        )

    def replicas_of(self, spec: ServiceSpec) -> list[Replica]:
        count = self.replicas.get(spec.name, 1)
        if count == 1:
            return [Replica(spec, 1, spec.name)]
        return [Replica(spec, n, f"{spec.name}-{n}") for n in range(1, count + 1)]

    def grpc_port(self, replica: Replica) -> int:
        row = REPLICA_PORT_STRIDE * (replica.index - 1)
        return self.base_port + row + replica.spec.port_offset

    def metrics_port(self, replica: Replica) -> int:
        return self.grpc_port(replica) + METRICS_PORT_OFFSET

    def replica_address(self, replica: Replica) -> str:
        return f"{LOOPBACK}:{self.grpc_port(replica)}"

    def metrics_address(self, replica: Replica) -> str:
        return f"{LOOPBACK}:{self.metrics_port(replica)}"

    def service_address(self, spec: ServiceSpec) -> str:
        """The first replica's address: where a client that knows one address goes."""
        return self.replica_address(self.replicas_of(spec)[0])

    def service_target(self, spec: ServiceSpec) -> str:
        """A gRPC target naming every replica, for a channel that balances over them."""
        replicas = self.replicas_of(spec)
        if len(replicas) == 1:
            return self.replica_address(replicas[0])
        return "ipv4:" + ",".join(self.replica_address(r) for r in replicas)

    def database_url(self, spec: ServiceSpec) -> str:
        named = self.databases.get(spec.name)
        if named:
            return named
        if self.postgres is not None:
            name = self.postgres_databases()[spec.name]
            password = postgres.password(self.secrets.directory, spec.name)
            return postgres.service_url(postgres.admin_url(self.postgres), name, password)
        # Replicas share one store; SQLite takes its write lock per transaction.
        return f"sqlite:///{self._sqlite_path(spec).resolve()}"

    def postgres_databases(self) -> dict[str, str]:
        """With --postgres, the database (and role) of each service it provides for."""
        if self.postgres is None:
            return {}
        return {
            spec.name: postgres.database_name(self.base_port, spec.name)
            for spec in SERVICES
            if spec.name not in self.databases
        }

    def database_label(self, spec: ServiceSpec) -> str:
        """Where a service's data is, for people: the file, or the URL without a password."""
        if spec.name in self.postgres_databases():
            name = self.postgres_databases()[spec.name]
            return postgres.service_url(postgres.admin_url(str(self.postgres)), name, None)
        url = self.databases.get(spec.name)
        if url is None:
            return str(self._sqlite_path(spec))
        scheme, sep, rest = url.partition("://")
        credentials, at, host = rest.rpartition("@")
        user = credentials.partition(":")[0]
        return f"{scheme}{sep}{user}{at}{host}" if at else url

    def _sqlite_path(self, spec: ServiceSpec) -> Path:
        return self.data_dir / f"{spec.name}.db"

    def reserved_ports(self) -> dict[str, int]:
        ports = {}
        for spec in SERVICES:
            for replica in self.replicas_of(spec):
                ports[replica.name] = self.grpc_port(replica)
                ports[f"{replica.name} metrics"] = self.metrics_port(replica)
        for node in self.nats_nodes:
            ports[node.name] = node.client_port
            if self.nats_cluster > 1:
                ports[f"{node.name} routes"] = node.route_port
        ports[GATEWAY] = self.gateway_port
        ports[f"{GATEWAY} metrics"] = self.base_port + GATEWAY_METRICS_PORT_OFFSET
        ports["smtp catcher"] = self.smtp_catcher_port
        ports["mail viewer"] = self.mail_viewer_port
        if self.traces:
            ports["trace catcher"] = self.trace_catcher_port
        return ports

    def service_env(self, replica: Replica, inherited: Mapping[str, str]) -> dict[str, str]:
        spec = replica.spec
        env = dict(inherited)
        env.update(
            GRPC_LISTEN_ADDR=self.replica_address(replica),
            METRICS_ADDR=self.metrics_address(replica),
            DATABASE_URL=self.database_url(spec),
            **self.secrets.service_env(spec.name),
            # Its own NATS user: the stack's server knows each service's (nats_permissions).
            **self.secrets.nats_env(spec.name),
            # grpcurl works against the stack with the CA and a key (cli.env has both).
            GRPC_REFLECTION="true",
            NATS_URL=self.nats_url,
            # Set even for one node, where more would fail: the stack knows its own NATS.
            NATS_STREAM_REPLICAS=str(self.stream_replicas),
            LOG_FORMAT="console",
            # Within the stack's own grace period, so a service finishes draining before
            # the stack would kill it.
            SHUTDOWN_GRACE_SECONDS="8",
            # Log lines are forwarded as they come; a buffered child would lag behind.
            PYTHONUNBUFFERED="1",
        )
        # A local stack's stores are its own: each service brings its schema up to date at
        # start, unless the environment says otherwise.
        env.setdefault("DB_AUTO_MIGRATE", "true")
        self._traced(env)
        if spec.name == "boleto":
            # Shared by every boleto replica, like its store. One remessa per upload, cut
            # after a short quiet spell, so a demo sees its file moments after uploading;
            # a deployment chooses `day` and the bank's own cut-off.
            env.setdefault("REMESSA_DIR", str(self.remessa_dir.resolve()))
            env.setdefault("REMESSA_PER", "upload")
            env.setdefault("REMESSA_QUIET_SECONDS", str(STACK_REMESSA_QUIET_SECONDS))
            if not any(name.startswith("BENEFICIARY_") for name in inherited):
                env.update(DEMO_REMESSA_BENEFICIARY)
        if spec.name == "mailer":
            env.update(
                SMTP_HOST=LOOPBACK,
                SMTP_PORT=str(self.smtp_catcher_port),
                BOLETO_ADDR=self.service_target(BOLETO),
            )
            # Each e-mail links to the debtor's page on the stack's gateway.
            env.setdefault("PUBLIC_BASE_URL", self.gateway_url)
            if self.bank:
                # Payments arrive within a minute of an upload: a receipt for each shows
                # the mailer hearing of them, where reminders wait for their day.
                env.setdefault("MAILER_SEND_RECEIPTS", "true")
        self._from_checkout(env)
        return env


def check_ports_free(layout: StackLayout) -> None:
    busy = [f"{port} ({name})" for name, port in layout.reserved_ports().items() if _busy(port)]
    if busy:
        raise StackError(
            f"port(s) already in use: {', '.join(busy)}; stop whatever holds them or pick "
            "another first port: --base-port P (make run BASE_PORT=P)"
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
