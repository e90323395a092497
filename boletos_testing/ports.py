"""Free loopback ports for the servers a test or benchmark starts, and the wait for one to
listen."""

from __future__ import annotations

import os
import random
import socket
import time
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
