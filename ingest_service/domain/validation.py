"""Validates blocks of CSV lines into accepted rows and per-row errors.

Two paths give the same answers, both built from the column table (columns.py). The fast
path matches a whole block against one regular expression that only admits rows already in
normal form; any block with a line it does not admit goes line by line, and any line it does
not admit goes through the careful path, which explains what is wrong. Tests hold the two
paths to agreement.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field, replace

from ingest_service.domain.columns import (
    COLUMNS,
    DISCOUNT_COLUMN_NAMES,
    KEY,
    Invalid,
    Rules,
    ValidRow,
    content_hash,
    row_problem,
)
from ingest_service.domain.errors import ErrorCode, RowError
from ingest_service.domain.fast_rows import compile_acceptor
from ingest_service.domain.header import ABSENT, Header
from ingest_service.domain.lines import (
    DEFAULT_MAX_LINE_BYTES,
    Block,
    Item,
    OversizedLine,
    UnclosedQuote,
    split_records,
)

# Longer than any line the fast expression can admit (its parts are all bounded).
FAST_PATH_LONGEST_LINE = 2048
COLUMN_INDEX = {c.name: i for i, c in enumerate(COLUMNS)}
_DISCOUNT_FOLDED = {n.lower() for n in DISCOUNT_COLUMN_NAMES}


@dataclass(slots=True)
class ValidatedBlock:
    rows: int = 0
    rejected: int = 0
    valid: list[ValidRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class RowValidator:
    """Validates the rows of one file, whose header fixed the column order."""

    def __init__(
        self, header: Header, rules: Rules, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> None:
        self._header = header
        self._rules = rules
        self._max_line = max_line_bytes
        in_file_order = [""] * len(header.names)
        for index in header.present:
            in_file_order[header.positions[index]] = "(" + COLUMNS[index].pattern + ")"
        # Every part is bounded, so no line the expression admits can be over-long.
        self._fast = re.compile("^" + ",".join(in_file_order) + r"[ \t]{0,64}\r?$", re.MULTILINE)
        # Rules across columns apply only to files that have the columns they read.
        row_rules = any(n in header.names_folded for n in _DISCOUNT_FOLDED)
        self._accept = compile_acceptor(header, rules, row_rules)

    def validate(self, item: Item) -> ValidatedBlock:
        if isinstance(item, OversizedLine):
            out = ValidatedBlock(rows=1, rejected=1)
            out.errors.append(_too_long(item.line, item.size, self._max_line))
            return out
        if isinstance(item, UnclosedQuote):
            out = ValidatedBlock(rows=1, rejected=1)
            out.errors.append(
                RowError(
                    item.line,
                    "",
                    ErrorCode.MALFORMED_ROW,
                    f"a quote opened on this line is not closed within {item.limit} bytes; "
                    "the line was read alone and the lines after it as rows of their own "
                    '(a value with a quote in it must be quoted, its quotes doubled: "a ""b"" c")',
                )
            )
            return out
        return self.validate_block(item)

    def validate_block(self, block: Block) -> ValidatedBlock:
        data = block.data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._line_by_line(block)
        if len(data) <= self._max_line or self._max_line < FAST_PATH_LONGEST_LINE:
            # The block may hold an over-long line the expression would admit: only the
            # careful path measures lines.
            return self._line_by_line(block)
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        matches = self._fast.findall(text)
        if len(matches) != lines:
            return self._line_by_line(block)
        out = ValidatedBlock(rows=lines)
        self._accept(
            matches, block.first_line, out.valid, functools.partial(self._careful, out=out)
        )
        return out

    def _line_by_line(self, block: Block) -> ValidatedBlock:
        """Record by record (a record is one line unless a quoted value spans several), each
        reported at the line where it begins."""
        out = ValidatedBlock()
        fast = self._fast
        careful = functools.partial(self._careful, out=out)
        for offset, raw in split_records(block.data):
            line = block.first_line + offset
            if len(raw) > self._max_line:
                out.rows += 1
                out.rejected += 1
                out.errors.append(_too_long(line, len(raw), self._max_line))
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                out.rows += 1
                out.rejected += 1
                out.errors.append(
                    RowError(
                        line,
                        "",
                        ErrorCode.INVALID_ENCODING,
                        f"the line is not valid UTF-8 (bad byte at position {exc.start + 1}); "
                        "save the file as UTF-8",
                    )
                )
                continue
            text = text.rstrip("\r")
            if not text.strip():
                continue  # blank lines are not rows
            out.rows += 1
            match = fast.fullmatch(text)
            if match is not None:
                self._accept((match.groups(),), line, out.valid, careful)
            else:
                self._careful(text, line, out)
        return out

    def _careful(self, text: str, line: int, out: ValidatedBlock) -> None:
        result = validate_row(text, line, self._header, self._rules)
        if isinstance(result, ValidRow):
            out.valid.append(result)
        else:
            out.rejected += 1
            out.errors.extend(result)


def validate_row(text: str, line: int, header: Header, rules: Rules) -> ValidRow | list[RowError]:
    """The careful path: every rule, every error of the row, with a message for people."""
    try:
        values = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return [
            RowError(line, "", ErrorCode.MALFORMED_ROW, f"the line cannot be read as CSV: {exc}")
        ]
    except StopIteration:
        values = []
    if len(values) != len(header.names):
        return [
            RowError(
                line,
                "",
                ErrorCode.MALFORMED_ROW,
                f"expected {len(header.names)} values ({','.join(header.names)}), "
                f"found {len(values)}",
            )
        ]
    parsed: list[object] = []
    errors: list[RowError] = []
    for index, position in enumerate(header.positions):
        if position == ABSENT:
            parsed.append(COLUMNS[index].absent)
            continue
        result = COLUMNS[index].parse(values[position].strip(), rules)
        if isinstance(result, Invalid):
            errors.append(RowError(line, header.column_at(position), result.code, result.message))
        parsed.append(result)
    if not errors:
        problem = row_problem(parsed)
        if problem:
            where = header.positions[COLUMN_INDEX["discountAmount"]]
            errors.append(
                RowError(line, header.column_at(where), ErrorCode.DISCOUNT_INVALID, problem)
            )
    if errors:
        key = parsed[KEY]
        if isinstance(key, str):
            # Reports can name the debt of a rejected row when its id was valid.
            return [replace(e, debt_id=key) for e in errors]
        return errors
    return ValidRow._make([*parsed, line, content_hash(parsed)])


def _too_long(line: int, size: int, limit: int) -> RowError:
    return RowError(
        line,
        "",
        ErrorCode.LINE_TOO_LONG,
        f"the line has {size} bytes; at most {limit} are accepted",
    )
