"""Why a row is not accepted, as stable codes plus a human message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ErrorCode(IntEnum):
    """Mirrors boletos.v1.RowErrorCode; the numbers are part of the contract."""

    MALFORMED_ROW = 1
    INVALID_ENCODING = 2
    LINE_TOO_LONG = 3
    NAME_EMPTY = 4
    NAME_TOO_LONG = 5
    GOVERNMENT_ID_INVALID = 6
    EMAIL_INVALID = 7
    AMOUNT_INVALID = 8
    AMOUNT_NOT_POSITIVE = 9
    AMOUNT_TOO_PRECISE = 10
    AMOUNT_TOO_LARGE = 11
    DUE_DATE_INVALID = 12
    DEBT_ID_INVALID = 13
    DEBT_ID_CONFLICT = 14
    DUE_DATE_OUT_OF_RANGE = 15
    LINE_BREAK_IN_VALUE = 16
    ADDRESS_INCOMPLETE = 17
    ADDRESS_TOO_LONG = 18
    ZIP_CODE_INVALID = 19
    STATE_INVALID = 20
    UNPRINTABLE_CHARACTER = 21
    DISCOUNT_INVALID = 22


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    code: ErrorCode
    message: str
    # The row's debtId when it is a valid one, so reports can name the debt.
    debt_id: str = ""


class HeaderError(ValueError):
    """The file's header is unusable, so no row can be read."""
