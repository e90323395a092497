"""A base port for a whole local stack (`boletos stack`), every port of its layout free."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

from boletos_cli.stack.errors import StackError
from boletos_cli.stack.layout import StackLayout, check_ports_free
from boletos_testing.ports import port_range


def free_base_port(replicas: Mapping[str, int] | None = None, nats_cluster: int = 1) -> int:
    """A base port whose whole stack layout is free, below the ephemeral range (see
    ports.free_port)."""

    def layout(base: int) -> StackLayout:
        return StackLayout(Path("."), base, replicas or {}, nats_cluster=nats_cluster)

    low, high = port_range()
    span = max(layout(low).reserved_ports().values()) - low
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - span)
        try:
            check_ports_free(layout(base))
        except StackError:
            continue
        return base
    # The stack's own error for ports it cannot have: whoever lays out a stack handles it.
    raise StackError("no free ports found for the stack")
