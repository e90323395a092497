"""The CSV header: six known columns in any order, matched without regard to case."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from ingest_service.domain.columns import COLUMN_NAMES
from ingest_service.domain.errors import HeaderError

_BY_FOLDED = {c.lower(): c for c in COLUMN_NAMES}

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Header:
    """Where each canonical column sits in the file's rows."""

    names: tuple[str, ...]  # the file's own spelling, in file order
    positions: tuple[int, ...]  # positions[i] = file position of COLUMN_NAMES[i]

    @property
    def is_canonical_order(self) -> bool:
        return self.positions == tuple(range(len(COLUMN_NAMES)))

    def column_at(self, position: int) -> str:
        return self.names[position]


def parse_header(line: bytes) -> Header:
    if line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM) :]
    try:
        text = line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise HeaderError("the header line is not valid UTF-8") from None
    if not text.strip():
        raise HeaderError(
            "the file is empty or its first line is blank; expected a header: "
            + ",".join(COLUMN_NAMES)
        )
    try:
        names = tuple(v.strip() for v in next(csv.reader([text], strict=True)))
    except csv.Error as exc:
        raise HeaderError(f"the header line cannot be read as CSV: {exc}") from None

    seen: dict[str, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for position, name in enumerate(names):
        canonical = _BY_FOLDED.get(name.lower())
        if canonical is None:
            unknown.append(name or "(empty)")
        elif canonical in seen:
            repeated.append(name)
        else:
            seen[canonical] = position
    missing = [c for c in COLUMN_NAMES if c not in seen]
    problems = []
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if unknown:
        problems.append("unknown column(s): " + ", ".join(unknown))
    if repeated:
        problems.append("repeated column(s): " + ", ".join(repeated))
    if problems:
        raise HeaderError(
            "; ".join(problems)
            + ". Expected exactly these columns, in any order: "
            + ",".join(COLUMN_NAMES)
        )
    return Header(names=names, positions=tuple(seen[c] for c in COLUMN_NAMES))
