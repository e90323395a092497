"""Validates blocks of CSV lines into accepted-row tuples and per-row errors.

Two paths give the same answers. The fast path matches a whole block against one regular
expression that only admits rows already in normal form; any block with a line it does
not admit goes line by line, and any line it does not admit goes through the slow path,
which is the one that explains what is wrong. Tests hold the two paths to agreement.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ingest_service.domain.errors import ErrorCode, RowError
from ingest_service.domain.header import COLUMNS, Header
from ingest_service.domain.lines import DEFAULT_MAX_LINE_BYTES, Block, OversizedLine

NAME_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254
GOVERNMENT_ID_MAX_DIGITS = 14
# The barcode's amount field has 10 digits of centavos.
AMOUNT_MAX_CENTS = 99_999_999_99

# A valid row, in the order the store and events use:
# (debt_id, name, government_id, email, amount_cents, due_date, line, content_hash)
ValidRow = tuple[str, str, str, str, int, str, int, int]

_NAME = r'[^,"\s](?:[^,"\r\n]{0,' + str(NAME_MAX_CHARS - 2) + r'}[^,"\s])?'
_GOVERNMENT_ID = r"[0-9]{1," + str(GOVERNMENT_ID_MAX_DIGITS) + "}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r"){1,8}"
_AMOUNT = r"[0-9]{1,8}(?:\.[0-9]{1,2})?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_FAST_FIELDS = (_NAME, _GOVERNMENT_ID, _EMAIL, _AMOUNT, _DATE, _UUID)

EMAIL_RE = re.compile(_EMAIL)
_GOVERNMENT_ID_RE = re.compile(_GOVERNMENT_ID)
_AMOUNT_RE = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")
_DATE_RE = re.compile(_DATE)

_DATE_CACHE_LIMIT = 100_000
# Longer than any line the fast expression can admit (its parts are all bounded).
FAST_PATH_LONGEST_LINE = 2048


def content_hash(name: str, government_id: str, email: str, cents: int, due: str) -> int:
    """A stable 64-bit fingerprint of a debt's content, to tell duplicates from conflicts."""
    digest = hashlib.blake2b(
        f"{name}\x1f{government_id}\x1f{email}\x1f{cents}\x1f{due}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(slots=True)
class ValidatedBlock:
    rows: int = 0
    rejected: int = 0
    valid: list[ValidRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class RowValidator:
    """Validates the rows of one file, whose header fixed the column order."""

    def __init__(self, header: Header, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._header = header
        self._max_line = max_line_bytes
        in_file_order = [""] * len(COLUMNS)
        for canonical_index, position in enumerate(header.positions):
            in_file_order[position] = "(" + _FAST_FIELDS[canonical_index] + ")"
        # Every part is bounded, so no line the expression admits can be over-long.
        self._fast = re.compile("^" + ",".join(in_file_order) + r"[ \t]{0,64}\r?$", re.MULTILINE)
        self._to_canonical: Callable[[tuple[str, ...]], tuple[str, ...]] | None = (
            None if header.is_canonical_order else operator.itemgetter(*header.positions)
        )
        self._dates: dict[str, bool] = {}

    def validate(self, item: Block | OversizedLine) -> ValidatedBlock:
        if isinstance(item, OversizedLine):
            out = ValidatedBlock(rows=1, rejected=1)
            out.errors.append(_too_long(item.line, item.size, self._max_line))
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
        first = block.first_line
        for offset, fields in enumerate(matches):
            self._accept(fields, first + offset, out, text_line=None)
        return out

    def _line_by_line(self, block: Block) -> ValidatedBlock:
        out = ValidatedBlock()
        raw_lines = block.data.split(b"\n")
        if block.data.endswith(b"\n"):
            raw_lines.pop()
        fast = self._fast
        for offset, raw in enumerate(raw_lines):
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
                self._accept(match.groups(), line, out, text_line=text)
            else:
                self._slow(text, line, out)
        return out

    def _accept(
        self, fields: tuple[str, ...], line: int, out: ValidatedBlock, text_line: str | None
    ) -> None:
        """Finishes a row the fast expression admitted; hands it to the slow path if a rule
        the expression cannot express fails."""
        if self._to_canonical is not None:
            fields = self._to_canonical(fields)
        name, government_id, email, amount, due, debt_id = fields
        if "." in amount:
            whole, _, cents_part = amount.partition(".")
            cents = int(whole) * 100 + int(cents_part.ljust(2, "0"))
        else:
            cents = int(amount) * 100
        if cents == 0 or len(email) > EMAIL_MAX_CHARS or not self._real_date(due):
            self._slow(text_line if text_line is not None else self._rebuild(fields), line, out)
            return
        out.valid.append(
            (
                debt_id.lower(),
                name,
                government_id,
                email,
                cents,
                due,
                line,
                content_hash(name, government_id, email, cents, due),
            )
        )

    def _rebuild(self, canonical: tuple[str, ...]) -> str:
        in_file_order = [""] * len(COLUMNS)
        for canonical_index, position in enumerate(self._header.positions):
            in_file_order[position] = canonical[canonical_index]
        return ",".join(in_file_order)

    def _real_date(self, value: str) -> bool:
        known = self._dates.get(value)
        if known is None:
            known = _parse_date(value) is not None
            if len(self._dates) >= _DATE_CACHE_LIMIT:
                self._dates.clear()
            self._dates[value] = known
        return known

    def _slow(self, text: str, line: int, out: ValidatedBlock) -> None:
        result = validate_row(text, line, self._header)
        if isinstance(result, tuple):
            out.valid.append(result)
        else:
            out.rejected += 1
            out.errors.extend(result)


def validate_row(text: str, line: int, header: Header) -> ValidRow | list[RowError]:
    """The careful path: every rule, every error of the row, with a message for people."""
    try:
        values = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return [
            RowError(line, "", ErrorCode.MALFORMED_ROW, f"the line cannot be read as CSV: {exc}")
        ]
    except StopIteration:
        values = []
    if len(values) != len(COLUMNS):
        return [
            RowError(
                line,
                "",
                ErrorCode.MALFORMED_ROW,
                f"expected {len(COLUMNS)} values ({','.join(header.names)}), found {len(values)}",
            )
        ]
    name, government_id, email, amount, due, debt_id = (values[p].strip() for p in header.positions)
    column = header.column_at
    p = header.positions
    errors: list[RowError] = []

    if not name:
        errors.append(RowError(line, column(p[0]), ErrorCode.NAME_EMPTY, "name is empty"))
    elif len(name) > NAME_MAX_CHARS:
        errors.append(
            RowError(
                line,
                column(p[0]),
                ErrorCode.NAME_TOO_LONG,
                f"name has {len(name)} characters; at most {NAME_MAX_CHARS} are accepted",
            )
        )

    if not _GOVERNMENT_ID_RE.fullmatch(government_id):
        # The value itself is personal data: the message describes it without echoing it.
        errors.append(
            RowError(
                line,
                column(p[1]),
                ErrorCode.GOVERNMENT_ID_INVALID,
                "governmentId must be 1 to 14 digits, without dots, dashes, slashes or letters"
                + (
                    " (it is empty)"
                    if not government_id
                    else f" (it has {len(government_id)} characters)"
                ),
            )
        )

    if len(email) > EMAIL_MAX_CHARS or not EMAIL_RE.fullmatch(email):
        errors.append(
            RowError(
                line,
                column(p[2]),
                ErrorCode.EMAIL_INVALID,
                f"email {_show(email)} is not a valid address (expected like name@example.com)",
            )
        )

    cents = parse_amount(amount)
    if isinstance(cents, RowError):
        errors.append(RowError(line, column(p[3]), cents.code, cents.message))

    due_date = _parse_date(due)
    if due_date is None:
        errors.append(
            RowError(
                line,
                column(p[4]),
                ErrorCode.DUE_DATE_INVALID,
                f"debtDueDate {_show(due)} is not a real date in the form YYYY-MM-DD",
            )
        )

    canonical_id = canonical_uuid(debt_id)
    if not canonical_id:
        errors.append(
            RowError(
                line,
                column(p[5]),
                ErrorCode.DEBT_ID_INVALID,
                f"debtId {_show(debt_id)} is not a UUID "
                "(expected like 8c8b3f6e-2a3b-4c1d-9e0f-1a2b3c4d5e6f)",
            )
        )

    if errors:
        if canonical_id:
            return [replace(e, debt_id=canonical_id) for e in errors]
        return errors
    assert isinstance(cents, int) and due_date is not None
    due_iso = due_date.isoformat()
    return (
        canonical_id,
        name,
        government_id,
        email,
        cents,
        due_iso,
        line,
        content_hash(name, government_id, email, cents, due_iso),
    )


_UUID_FORMS = re.compile(
    r"(?:urn:uuid:)?(\{)?([0-9a-fA-F]{8})(-?)([0-9a-fA-F]{4})\3([0-9a-fA-F]{4})\3"
    r"([0-9a-fA-F]{4})\3([0-9a-fA-F]{12})(?(1)\})"
)


def canonical_uuid(value: str) -> str:
    """The lowercase 8-4-4-4-12 form of a UUID written with or without dashes, braces or a
    urn:uuid: prefix; empty for anything else (uuid.UUID alone would also take '0x' and
    underscores, letting two spellings of different ids pass)."""
    match = _UUID_FORMS.fullmatch(value)
    if match is None:
        return ""
    parts = match.groups()
    return "-".join((parts[1], parts[3], parts[4], parts[5], parts[6])).lower()


def parse_amount(value: str) -> int | RowError:
    """debtAmount in centavos; a RowError (line 0, no column) says why it is refused."""
    match = _AMOUNT_RE.fullmatch(value)
    if match is None:
        hint = " (use a dot for decimals and no thousands separator)" if "," in value else ""
        return RowError(
            0,
            "",
            ErrorCode.AMOUNT_INVALID,
            f"debtAmount {_show(value)} is not a decimal number like 1234.56{hint}",
        )
    sign, whole, fraction = match.groups()
    if sign == "-" and match.group(0).strip("-0."):
        return RowError(
            0, "", ErrorCode.AMOUNT_NOT_POSITIVE, f"debtAmount {_show(value)} must be above zero"
        )
    fraction = (fraction or "").rstrip("0")
    whole = whole.lstrip("0")
    # Compared as digit strings: int() of a thousands-digit amount would raise.
    if sign != "-" and (len(whole), whole + fraction) > (8, "9999999999"):
        return RowError(
            0,
            "",
            ErrorCode.AMOUNT_TOO_LARGE,
            f"debtAmount {_show(value)} is above 99999999.99, the most a boleto can carry",
        )
    if len(fraction) > 2:
        return RowError(
            0,
            "",
            ErrorCode.AMOUNT_TOO_PRECISE,
            f"debtAmount {_show(value)} has more than 2 decimal places",
        )
    cents = int(whole or "0") * 100 + int(fraction.ljust(2, "0"))
    if cents == 0:
        return RowError(
            0, "", ErrorCode.AMOUNT_NOT_POSITIVE, f"debtAmount {_show(value)} must be above zero"
        )
    if cents > AMOUNT_MAX_CENTS:
        return RowError(
            0,
            "",
            ErrorCode.AMOUNT_TOO_LARGE,
            f"debtAmount {_show(value)} is above 99999999.99, the most a boleto can carry",
        )
    return cents


def _parse_date(value: str) -> dt.date | None:
    if not _DATE_RE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _too_long(line: int, size: int, limit: int) -> RowError:
    return RowError(
        line,
        "",
        ErrorCode.LINE_TOO_LONG,
        f"the line has {size} bytes; at most {limit} are accepted",
    )


def _show(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")
