"""Real servers for tests: the nats-server launcher, free ports and waits of boletos_testing
(the benchmarks' too), plus the environment for child processes."""

from __future__ import annotations

import os
from pathlib import Path

from boletos_testing.ports import free_port, wait_for_port
from boletos_testing.processes import NatsServer

__all__ = ["NatsServer", "free_port", "python_env", "spawned_workers", "wait_for_port"]


def python_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the test's own, the test credentials (TLS and
    keys for a service, CA and admin key for the CLI), then `extra`."""
    from tests.support import access

    env = dict(os.environ)
    env.update(access.service_env())
    env.update(access.cli_env())
    env.update(extra)
    return env


def spawned_workers() -> set[int]:
    """This process's live worker processes (multiprocessing's spawn): the workers of the
    services a test runs in its own process."""
    workers: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            # After the command's closing parenthesis: state, then ppid.
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == os.getpid() and b"spawn_main" in command:
            workers.add(int(proc.name))
    return workers
