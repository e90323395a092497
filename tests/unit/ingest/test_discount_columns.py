"""The optional early-payment discount: discountAmount off when paid by discountUntil."""

from __future__ import annotations

import pytest

from ingest_service.domain.errors import ErrorCode, HeaderError
from ingest_service.domain.header import parse_header

from .test_validation import validate_file

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId,discountAmount,discountUntil"
PERSON = (
    "Ana Souza,52998224725,ana@example.com,100.00,2031-01-31,1adb6ccf-ff16-467f-bea7-5f05d494280f"
)


def one_row(discount: str) -> tuple[list, list]:
    result = validate_file(f"{HEADER}\n{PERSON},{discount}\n".encode())
    return result.valid, result.errors


def test_a_discount_is_kept_in_centavos_with_its_date() -> None:
    [row], errors = one_row("12.5,2031-01-20")
    assert errors == []
    assert (row.discount_cents, row.discount_until) == (1250, "2031-01-20")


def test_a_row_may_have_none_and_a_file_without_the_columns_has_none() -> None:
    [row], errors = one_row(",")
    assert errors == []
    assert (row.discount_cents, row.discount_until) == (0, "")
    result = validate_file(f"{HEADER.rsplit(',', 2)[0]}\n{PERSON}\n".encode())
    assert [(r.discount_cents, r.discount_until) for r in result.valid] == [(0, "")]


@pytest.mark.parametrize(
    ("discount", "words"),
    [
        ("12.50,", "go together"),
        (",2031-01-20", "go together"),
        ("100.00,2031-01-20", "less than debtAmount"),
        ("150,2031-01-20", "less than debtAmount"),
        ("10,2031-02-01", "not be after debtDueDate"),
        ("-5,2031-01-20", "not an amount above zero"),
        ("0,2031-01-20", "not an amount above zero"),
        ("1,50,2031-01-20", "MALFORMED"),
        ("10,2031-02-30", "not a real date"),
    ],
)
def test_a_discount_that_cannot_be_granted_rejects_its_row_with_a_reason(
    discount: str, words: str
) -> None:
    valid, errors = one_row(discount)
    assert valid == []
    [error] = errors
    if words == "MALFORMED":
        assert error.code is ErrorCode.MALFORMED_ROW
        return
    assert (error.line, error.code) == (2, ErrorCode.DISCOUNT_INVALID)
    assert error.column in ("discountAmount", "discountUntil")
    assert words in error.message


def test_discount_columns_come_together() -> None:
    with pytest.raises(HeaderError, match="discountAmount and discountUntil come together"):
        parse_header(b"name,governmentId,email,debtAmount,debtDueDate,debtId,discountAmount")
