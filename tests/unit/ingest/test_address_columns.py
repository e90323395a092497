"""The optional address columns: a six-column file reads as before; with them, each row must
give an address the bank can register, and says exactly what is missing when it does not."""

from __future__ import annotations

import pytest

from ingest_service.domain.errors import ErrorCode, HeaderError
from ingest_service.domain.header import parse_header

from .test_validation import validate_file

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId,address,district,zipCode,city,state"
PERSON = (
    "Ana Souza,52998224725,ana@example.com,10.50,2031-01-31,1adb6ccf-ff16-467f-bea7-5f05d494280f"
)
INCOMPLETE, TOO_LONG = ErrorCode.ADDRESS_INCOMPLETE, ErrorCode.ADDRESS_TOO_LONG
BAD_CEP, BAD_UF = ErrorCode.ZIP_CODE_INVALID, ErrorCode.STATE_INVALID
UNPRINTABLE = ErrorCode.UNPRINTABLE_CHARACTER
GOOD_ADDRESS = "Rua das Flores 12 ap. 3,Centro,01310-100,São Paulo,SP"


def one_row(address: str, header: str = HEADER) -> tuple[list, list]:
    result = validate_file(f"{header}\n{PERSON},{address}\n".encode())
    return result.valid, result.errors


def test_a_full_address_is_kept_in_normal_form() -> None:
    [row], errors = one_row(GOOD_ADDRESS)
    assert errors == []
    assert (row.address, row.district, row.zip_code, row.city, row.state) == (
        "Rua das Flores 12 ap. 3", "Centro", "01310100", "São Paulo", "SP"
    )  # fmt: skip


def test_a_six_column_file_has_empty_addresses() -> None:
    result = validate_file(f"{HEADER.rsplit(',', 5)[0]}\n{PERSON}\n".encode())
    assert result.errors == []
    [row] = result.valid
    assert (row.address, row.zip_code, row.city, row.state) == ("", "", "", "")


def test_address_columns_may_come_in_any_order_and_district_may_be_left_out() -> None:
    header = "state,debtId,city,name,zipCode,email,address,governmentId,debtAmount,debtDueDate"
    name, gid, email, amount, due, debt_id = PERSON.split(",")
    line = ",".join(
        ["rj", debt_id, "Niterói", name, "24020005", email, "Rua X 1", gid, amount, due]
    )
    result = validate_file(f"{header}\n{line}\n".encode())
    assert result.errors == []
    [row] = result.valid
    assert (row.state, row.city, row.zip_code, row.district) == ("RJ", "Niterói", "24020005", "")


def test_a_quoted_address_with_a_comma_is_one_value() -> None:
    [row], errors = one_row('"Rua das Flores, 12",Centro,01310100,São Paulo,SP')
    assert errors == []
    assert row.address == "Rua das Flores, 12"


@pytest.mark.parametrize(
    ("address", "column", "code", "words"),
    [
        (",Centro,01310-100,São Paulo,SP", "address", INCOMPLETE, "needs address"),
        ("Rua 1,Centro,,São Paulo,SP", "zipCode", INCOMPLETE, "zipCode is empty"),
        ("Rua 1,Centro,01310-100,,SP", "city", INCOMPLETE, "city is empty"),
        ("Rua 1,Centro,01310-100,São Paulo,", "state", INCOMPLETE, "state is empty"),
        ("Rua 1,,0131010,São Paulo,SP", "zipCode", BAD_CEP, "not a CEP"),
        ("Rua 1,,01.310-100,São Paulo,SP", "zipCode", BAD_CEP, "8 digits"),
        ("Rua 1,,00000-000,São Paulo,SP", "zipCode", BAD_CEP, "not a CEP"),
        ("Rua 1,,01310-100,São Paulo,XX", "state", BAD_UF, "27 UFs"),
        ("Rua 1,,01310-100,São Paulo,São Paulo", "state", BAD_UF, "27 UFs"),
        ("R" * 201 + ",,01310-100,São Paulo,SP", "address", TOO_LONG, "at most 200"),
        ("Rua 1," + "B" * 101 + ",01310-100,Itu,SP", "district", TOO_LONG, "at most 100"),
        ("Rua 1,,01310-100," + "C" * 101 + ",SP", "city", TOO_LONG, "at most 100"),
        ("Rua \u202eA 1,,01310-100,Itu,SP", "address", UNPRINTABLE, "override"),
        ("Rua 1,Centro\x1b[31m,01310-100,Itu,SP", "district", UNPRINTABLE, "control"),
    ],
)  # fmt: skip
def test_each_address_problem_has_its_code_column_and_reason(
    address: str, column: str, code: ErrorCode, words: str
) -> None:
    valid, errors = one_row(address)
    assert valid == []
    [error] = errors
    assert (error.line, error.column, error.code) == (2, column, code)
    assert words in error.message
    # The row's debt is named, its personal data never echoed.
    assert error.debt_id == "1adb6ccf-ff16-467f-bea7-5f05d494280f"
    assert "Rua" not in error.message


def test_every_missing_part_of_a_row_is_reported_at_once() -> None:
    valid, errors = one_row(",,,,")
    assert valid == []
    assert [(e.column, e.code) for e in errors] == [
        (c, ErrorCode.ADDRESS_INCOMPLETE) for c in ("address", "zipCode", "city", "state")
    ]


def test_a_bad_address_does_not_block_the_good_rows() -> None:
    lines = [HEADER]
    for i in range(40):
        address = GOOD_ADDRESS if i % 4 else "Rua A 1,,123,São Paulo,SP"
        lines.append(PERSON[:-12] + f"{i:012d}," + address)
    result = validate_file(("\n".join(lines) + "\n").encode())
    assert (result.rows, result.rejected, len(result.valid)) == (40, 10, 30)
    assert {e.code for e in result.errors} == {ErrorCode.ZIP_CODE_INVALID}


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        ("address", "zipCode, city, state"),
        ("zipCode,city,state", "address"),
        ("district", "address, zipCode, city, state"),
        ("address,zipCode,state", "city"),
    ],
)
def test_address_columns_come_together(extra: str, missing: str) -> None:
    with pytest.raises(HeaderError) as raised:
        parse_header(f"name,governmentId,email,debtAmount,debtDueDate,debtId,{extra}".encode())
    message = str(raised.value)
    assert f"missing column(s): {missing}" in message
    assert "come together" in message


def test_an_unknown_column_still_names_the_optional_ones() -> None:
    with pytest.raises(HeaderError, match="optionally: address,district,zipCode,city,state"):
        parse_header(b"name,governmentId,email,debtAmount,debtDueDate,debtId,cep")
