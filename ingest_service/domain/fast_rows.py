"""The fast path's per-row work, compiled once per header from the column table.

A file's header fixes which columns are present and in which order; every row of the file
then needs the same steps: finish each present value (columns.Column.fast), put absent
columns' stand-ins in their places, apply the row-level rules the file's columns call for,
fingerprint the hashed values and build the ValidRow. Written as a generic loop over the
table, those steps cost more per row than the regular expression that admitted the row (a
list, an index per column, a call per finisher and a hash through map and join). Here they
are written out as the source of one function per header, as dataclasses and namedtuple do
for theirs, each finisher's expression in line, so a row costs only the work itself: the
table is still the one place a column is described, and a new column needs nothing here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from ingest_service.domain.columns import COLUMNS, Rules, ValidRow, fast_names, row_problem
from ingest_service.domain.header import ABSENT, Header

# accept(matches, first_line, valid, careful): each match holds one row's values in file
# order, the first on `first_line`; admitted rows are appended to `valid`, and the text of
# any row a finisher or a row rule refuses goes to careful(text, line).
Acceptor = Callable[
    [Sequence[Sequence[str]], int, list[ValidRow], Callable[[str, int], None]], None
]


def compile_acceptor(header: Header, rules: Rules, row_rules: bool) -> Acceptor:
    """The acceptor for files with this header; `row_rules`: whether the file has columns a
    rule across the row reads."""
    raw = [f"v{position}" for position in range(len(header.names))]
    namespace: dict[str, Any] = {
        **fast_names(rules),
        "row_problem": row_problem,
        "blake2b": hashlib.blake2b,
        "from_bytes": int.from_bytes,
        "new_row": tuple.__new__,
        "ValidRow": ValidRow,
    }
    refuse = f"careful(','.join(({', '.join(raw)},)), line)"
    body: list[str] = []
    values: list[str] = []
    for index, column in enumerate(COLUMNS):
        position = header.positions[index]
        if position == ABSENT:
            namespace[f"absent{index}"] = column.absent
            values.append(f"absent{index}")
            continue
        if column.fast is None:
            values.append(raw[position])
            continue
        finished = column.fast.replace("{v}", raw[position])
        body += [
            f"c{index} = {finished}",
            f"if c{index} is None:",
            f"    {refuse}",
            "    continue",
        ]
        values.append(f"c{index}")
    if row_rules:
        body += [f"if row_problem(({', '.join(values)},)):", f"    {refuse}", "    continue"]
    hashed = "\\x1f".join("{" + values[i] + "}" for i, c in enumerate(COLUMNS) if c.hashed)
    body += [
        # columns.content_hash, spelled out: tests hold the two equal.
        f"digest = blake2b(f'{hashed}'.encode(), digest_size=8).digest()",
        "fingerprint = from_bytes(digest, 'big', signed=True)",
        f"append(new_row(ValidRow, ({', '.join(values)}, line, fingerprint)))",
    ]
    source = "\n".join(
        [
            "def accept(matches, first, valid, careful):",
            "    append = valid.append",
            "    line = first - 1",
            f"    for {', '.join(raw)}, in matches:",
            "        line += 1",
            *(f"        {statement}" for statement in body),
        ]
    )
    # The source holds names made here and the table's own values, never the file's text.
    exec(compile(source, "<fast_rows acceptor>", "exec"), namespace)
    acceptor: Acceptor = namespace["accept"]
    return acceptor
