"""Real servers for tests: the nats-server launcher, free ports and waits of boletos_testing
(the benchmarks' too), plus the environment for child processes."""

from __future__ import annotations

import os

from boletos_testing.ports import free_port, wait_for_port
from boletos_testing.processes import NatsServer

__all__ = ["NatsServer", "free_port", "python_env", "wait_for_port"]


def python_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the test's own, the test credentials (TLS and
    keys for a service, CA and admin key for the CLI), then `extra`."""
    from tests.support import access

    env = dict(os.environ)
    env.update(access.service_env())
    env.update(access.cli_env())
    env.update(extra)
    return env
