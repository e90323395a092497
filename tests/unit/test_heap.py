"""A started service's objects leave the cyclic collector's sight, its start's garbage does not."""

from __future__ import annotations

import gc
import weakref

from boletos.platform import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_what_lives_is_frozen_and_what_is_garbage_is_collected_first() -> None:
    kept = _Node()
    lost, partner = _Node(), _Node()
    lost.other, partner.other = partner, lost  # a cycle only the collector can free
    gone = weakref.ref(lost)
    del lost, partner
    before = gc.get_freeze_count()
    try:
        heap.freeze_startup_objects()
        assert gone() is None
        assert gc.get_freeze_count() > before
        # Frozen objects are in no generation.
        assert not any(o is kept for o in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
