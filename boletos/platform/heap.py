"""The interpreter's heap, once a process has built what it serves with."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Moves every object alive now out of the cyclic collector's sight for good.

    What a service builds to start (its modules, SQLAlchemy metadata, clients, protobuf
    descriptors) lives as long as the process, yet each full collection walks all of it
    again; a batch of thousands of new objects (a retorno's plans, a message's boletos) sets
    such collections off every few batches. Frozen, those passes walk only what came since
    (docs/benchmarks.md has what it bought). Garbage from the start is collected first, so
    none of it is kept forever."""
    gc.collect()
    gc.freeze()
