"""The one spelling the services give the ids they make and send each other in events (debt
and upload ids): a lowercase, dashed UUID. An id in any other spelling in an event is no id
of ours: it keys no row, and a message id built from it would not match its twin's."""

from __future__ import annotations

import re

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_canonical_uuid(value: str) -> bool:
    return _CANONICAL_UUID.fullmatch(value) is not None
