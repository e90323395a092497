"""The CPU-heavy half of ingestion, run in a worker process: validate a block and encode
its rows for the store and for the events, so the service process only does I/O.

Results cross the process boundary as a few flat byte strings rather than a million small
objects: pickling tuples row by row would cost more than the validation saves.
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass, field

from ingest_service.domain.columns import REQUIRED_COLUMN_NAMES, Rules
from ingest_service.domain.errors import RowError
from ingest_service.domain.header import parse_header
from ingest_service.domain.lines import Block, Item
from ingest_service.domain.upload import StoreRow
from ingest_service.domain.validation import RowValidator
from ingest_service.service.events import event_bodies

_validators: dict[tuple[bytes, int, Rules], RowValidator] = {}


@dataclass(slots=True)
class PreparedBlock:
    rows: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    keys: bytes = b""  # 16 bytes per valid row
    hashes: bytes = b""  # array('q')
    lines: bytes = b""  # array('q')
    # event_bodies[i] announces valid rows i * per_event to (i + 1) * per_event - 1
    event_bodies: list[bytes] = field(default_factory=list)

    def store_rows(self) -> list[StoreRow]:
        keys = self.keys
        return list(
            zip(
                (keys[i : i + 16] for i in range(0, len(keys), 16)),
                array("q", self.hashes),
                array("q", self.lines),
                strict=True,
            )
        )


def prepare(header: bytes, item: Item, max_line_bytes: int, rules: Rules) -> PreparedBlock:
    checked = _validator(header, max_line_bytes, rules).validate(item)
    valid = checked.valid
    return PreparedBlock(
        rows=checked.rows,
        rejected=checked.rejected,
        errors=checked.errors,
        keys=bytes.fromhex("".join(r.debt_id for r in valid).replace("-", "")),
        hashes=array("q", [r.content_hash for r in valid]).tobytes(),
        lines=array("q", [r.line for r in valid]).tobytes(),
        event_bodies=event_bodies(valid),
    )


def _validator(header: bytes, max_line_bytes: int, rules: Rules) -> RowValidator:
    key = (header, max_line_bytes, rules)
    validator = _validators.get(key)
    if validator is None:
        if len(_validators) > 64:
            _validators.clear()
        validator = _validators[key] = RowValidator(parse_header(header), rules, max_line_bytes)
    return validator


def warm_up() -> None:
    """Imports and compiles what the first real block would, so it does not wait for it."""
    header = ",".join(REQUIRED_COLUMN_NAMES).encode()
    prepare(header, Block(2, b""), 1024, Rules.on(dt.date.today()))
