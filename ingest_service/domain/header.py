"""The CSV header: six required columns and the optional ones, in any order, matched
without regard to case.

A refused header's message goes to the client, the log and the upload's record, so it never
repeats a debtor's data: a first line with none of the column names (a file without its
header, whose first row sits there instead) is refused without quoting it, and elsewhere an
unknown name is quoted only when it looks like a column name (a short word, no spaces, no
`@`), with the column it is a typo of, if any.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass

from ingest_service.domain.columns import (
    ADDRESS_COLUMN_NAMES,
    ADDRESS_REQUIRED,
    COLUMN_NAMES,
    DISCOUNT_COLUMN_NAMES,
    OPTIONAL_COLUMN_NAMES,
    REQUIRED_COLUMN_NAMES,
)
from ingest_service.domain.errors import HeaderError

_BY_FOLDED = {c.lower(): c for c in COLUMN_NAMES}
ABSENT = -1
EXPECTED = (
    ",".join(REQUIRED_COLUMN_NAMES) + " (then, optionally: " + ",".join(OPTIONAL_COLUMN_NAMES) + ")"
)

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Header:
    """Where each canonical column sits in the file's rows."""

    names: tuple[str, ...]  # the file's own spelling, in file order
    # positions[i] = file position of COLUMN_NAMES[i], ABSENT for an optional column the
    # file leaves out.
    positions: tuple[int, ...]

    @property
    def is_canonical_order(self) -> bool:
        return self.positions == tuple(range(len(COLUMN_NAMES)))

    @property
    def names_folded(self) -> frozenset[str]:
        return frozenset(n.lower() for n in self.names)

    @property
    def present(self) -> tuple[int, ...]:
        """Indexes into COLUMN_NAMES of the columns the file has."""
        return tuple(i for i, p in enumerate(self.positions) if p != ABSENT)

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
            "the file is empty or its first line is blank; expected a header: " + EXPECTED
        )
    try:
        names = tuple(v.strip() for v in next(csv.reader([text], strict=True)))
    except csv.Error as exc:
        raise HeaderError(f"the header line cannot be read as CSV: {exc}") from None

    seen: dict[str, int] = {}
    unknown: list[str] = []
    unknown_count = 0
    repeated: list[str] = []
    for position, name in enumerate(names):
        canonical = _BY_FOLDED.get(name.lower())
        if canonical is None:
            unknown_count += 1
            if _looks_like_a_name(name):
                near = _near_miss(name)
                unknown.append(f"{name} (did you mean {near}?)" if near else name)
            elif not name:
                unknown.append("(empty)")
        elif canonical in seen:
            repeated.append(name)
        else:
            seen[canonical] = position
    missing = [c for c in REQUIRED_COLUMN_NAMES if c not in seen]
    if any(c in seen for c in ADDRESS_COLUMN_NAMES):
        missing += [c for c in ADDRESS_REQUIRED if c not in seen]
    if any(c in seen for c in DISCOUNT_COLUMN_NAMES):
        missing += [c for c in DISCOUNT_COLUMN_NAMES if c not in seen]
    if not seen:
        raise HeaderError(
            "the first line is not a header (none of its values is a column name); a file "
            "must start with the header: " + EXPECTED
        )
    problems = []
    if missing:
        notes = []
        if any(c in ADDRESS_REQUIRED for c in missing):
            notes.append("address, zipCode, city and state come together")
        if any(c in DISCOUNT_COLUMN_NAMES for c in missing):
            notes.append("discountAmount and discountUntil come together")
        note = f" ({'; '.join(notes)})" if notes else ""
        problems.append("missing column(s): " + ", ".join(missing) + note)
    if unknown_count:
        hidden = unknown_count - len(unknown)
        shown = [*unknown, *([f"{hidden} not shown"] if hidden else [])]
        problems.append("unknown column(s): " + ", ".join(shown))
    if repeated:
        problems.append("repeated column(s): " + ", ".join(repeated))
    if problems:
        raise HeaderError(
            "; ".join(problems) + ". Expected these columns, in any order: " + EXPECTED
        )
    return Header(names=names, positions=tuple(seen.get(c, ABSENT) for c in COLUMN_NAMES))


def _looks_like_a_name(name: str) -> bool:
    return (
        0 < len(name) <= 32 and name.isascii() and name.replace("_", "").replace("-", "").isalnum()
    )


def _near_miss(name: str) -> str | None:
    """The column a name is a typo of, if any."""
    match = difflib.get_close_matches(name.lower(), list(_BY_FOLDED), n=1, cutoff=0.75)
    return _BY_FOLDED[match[0]] if match else None
