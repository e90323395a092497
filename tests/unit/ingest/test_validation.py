"""Every reason a row can be refused, with the code, column, line and message a client sees."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from boletos.v1 import ingest_pb2
from ingest_service.domain.columns import AMOUNT_MAX_CENTS, ValidRow, content_hash, parse_amount
from ingest_service.domain.errors import ErrorCode, RowError
from ingest_service.domain.header import parse_header
from ingest_service.domain.lines import DEFAULT_MAX_LINE_BYTES, Block, LineAssembler
from ingest_service.domain.validation import (
    FAST_PATH_LONGEST_LINE,
    RowValidator,
    ValidatedBlock,
    validate_row,
)
from tests.support.csvdata import RULES

# The file's own spelling and order, so tests see that errors quote the file, not the code.
FILE_HEADER = "debtID,Name,eMail,GOVERNMENTID,DebtDueDate,debtAmount"
FILE_ORDER = ("debtId", "name", "email", "governmentId", "debtDueDate", "debtAmount")
GOOD = {
    "name": "John Doe",
    "governmentId": "11144477735",
    "email": "john.doe@example.com",
    "debtAmount": "10.50",
    "debtDueDate": "2023-01-31",
    "debtId": "1adb6ccf-ff16-467f-bea7-5f05d494280f",
}


def row(**fields: str) -> str:
    values = {**GOOD, **fields}
    return ",".join(values[c] for c in FILE_ORDER)


def validate_file(
    data: bytes, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, chunk: int | None = None
) -> ValidatedBlock:
    """Runs a whole file through the assembler and the validator, as the service does."""
    assembler = LineAssembler(max_line_bytes=max_line_bytes)
    items = []
    size = chunk or max(len(data), 1)
    for start in range(0, len(data), size):
        items += assembler.feed(data[start : start + size])
    items += assembler.finish()
    assert assembler.header is not None
    validator = RowValidator(parse_header(assembler.header), RULES, max_line_bytes)
    total = ValidatedBlock()
    for item in items:
        part = validator.validate(item)
        total.rows += part.rows
        total.rejected += part.rejected
        total.valid += part.valid
        total.errors += part.errors
    return total


def bad_row(line: str | bytes) -> list[RowError]:
    """The errors of one bad row, placed on line 3 after a good row so numbering is visible."""
    raw = line if isinstance(line, bytes) else line.encode()
    data = FILE_HEADER.encode() + b"\n" + row().encode() + b"\n" + raw + b"\n"
    result = validate_file(data)
    assert result.rows == 2
    assert result.rejected == 1
    assert [v.line for v in result.valid] == [2]
    assert result.errors
    assert all(e.line == 3 for e in result.errors)
    return result.errors


def the_error(line: str | bytes) -> RowError:
    errors = bad_row(line)
    assert len(errors) == 1, errors
    return errors[0]


def accepted(line: str) -> ValidRow:
    result = validate_file(FILE_HEADER.encode() + b"\n" + line.encode() + b"\n")
    assert result.errors == []
    assert (result.rows, result.rejected, len(result.valid)) == (1, 0, 1)
    return result.valid[0]


def assert_readable(message: str, *words: str) -> None:
    assert len(message) >= 10
    assert "Error(" not in message and "Traceback" not in message
    for word in words:
        assert word in message, (word, message)


# --- the codes are a wire contract -----------------------------------------------------------


def test_error_codes_mirror_the_protobuf_enum() -> None:
    wire = {
        name.removeprefix("ROW_ERROR_CODE_"): number
        for name, number in ingest_pb2.RowErrorCode.items()
        if number != 0
    }
    assert wire == {code.name: code.value for code in ErrorCode}


# --- whole-row problems ----------------------------------------------------------------------


def test_too_few_fields() -> None:
    error = the_error(row().rsplit(",", 1)[0])
    assert (error.code, error.column) == (ErrorCode.MALFORMED_ROW, "")
    assert_readable(error.message, "expected 6 values", FILE_HEADER, "found 5")


def test_too_many_fields() -> None:
    error = the_error(row() + ",extra")
    assert (error.code, error.column) == (ErrorCode.MALFORMED_ROW, "")
    assert_readable(error.message, "found 7")


def test_unquoted_comma_in_name_shifts_the_values() -> None:
    error = the_error(row(name="Smith, John"))
    assert (error.code, error.column) == (ErrorCode.MALFORMED_ROW, "")


@pytest.mark.parametrize("name", ['"Smith, John', '"Smith" John'])
def test_broken_quoting(name: str) -> None:
    error = the_error(row(name=name))
    assert (error.code, error.column) == (ErrorCode.MALFORMED_ROW, "")
    assert_readable(error.message, "CSV")


def test_invalid_utf8() -> None:
    error = the_error(row(name="Jos\udce9 Silva").encode("utf-8", "surrogateescape"))
    assert (error.code, error.column) == (ErrorCode.INVALID_ENCODING, "")
    # 1-based byte position of the \xe9 in the line, after "<debtId>,Jos".
    assert_readable(error.message, "UTF-8", f"position {len(GOOD['debtId']) + 5}")


def test_invalid_utf8_in_a_large_block_is_found_too() -> None:
    good = "\n".join(row() for _ in range(50)).encode()
    bad = row(name="Jos\udce9").encode("utf-8", "surrogateescape")
    result = validate_file(FILE_HEADER.encode() + b"\n" + good + b"\n" + bad + b"\n" + good, 1000)
    assert (result.rows, result.rejected, len(result.valid)) == (101, 1, 100)
    assert [(e.line, e.code) for e in result.errors] == [(52, ErrorCode.INVALID_ENCODING)]


@pytest.mark.parametrize("chunk", [None, 4096])
def test_line_too_long(chunk: int | None) -> None:
    # Whole in one chunk, or cut across chunks: the same error either way.
    long_row = row(name="x" * (DEFAULT_MAX_LINE_BYTES + 100))
    data = "\n".join([FILE_HEADER, row(), long_row, row()]).encode() + b"\n"
    result = validate_file(data, chunk=chunk)
    assert (result.rows, result.rejected, len(result.valid)) == (3, 1, 2)
    [error] = result.errors
    assert (error.line, error.column, error.code) == (3, "", ErrorCode.LINE_TOO_LONG)
    assert_readable(error.message, str(len(long_row)), str(DEFAULT_MAX_LINE_BYTES))


def test_line_too_long_by_trailing_spaces() -> None:
    # Padding is the one part of a good row that could grow without bound.
    padded = row() + " " * (DEFAULT_MAX_LINE_BYTES + 100)
    result = validate_file(f"{FILE_HEADER}\n{padded}\n".encode())
    assert [(e.line, e.code) for e in result.errors] == [(2, ErrorCode.LINE_TOO_LONG)]
    assert result.valid == []


# The smallest limit the service's settings accept.
SMALLEST_MAX_LINE = 256


def test_line_too_long_does_not_depend_on_chunking_at_the_smallest_limit() -> None:
    long_good = row(name="A" * 200)
    assert SMALLEST_MAX_LINE < len(long_good) < 2 * SMALLEST_MAX_LINE
    data = f"{FILE_HEADER}\n{long_good}\n".encode()
    for chunk in (None, 1):
        result = validate_file(data, max_line_bytes=SMALLEST_MAX_LINE, chunk=chunk)
        assert [(e.line, e.code) for e in result.errors] == [(2, ErrorCode.LINE_TOO_LONG)], chunk
        assert result.valid == []


# --- name ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", '""'])
def test_name_empty(name: str) -> None:
    error = the_error(row(name=name))
    assert (error.code, error.column) == (ErrorCode.NAME_EMPTY, "Name")
    assert_readable(error.message, "name is empty")


def test_name_too_long() -> None:
    error = the_error(row(name="a" * 201))
    assert (error.code, error.column) == (ErrorCode.NAME_TOO_LONG, "Name")
    assert_readable(error.message, "201", "200")


def test_name_of_200_characters_is_accepted() -> None:
    assert accepted(row(name="a" * 200)).name == "a" * 200


def test_name_limit_counts_characters_not_bytes() -> None:
    assert accepted(row(name="é" * 200)).name == "é" * 200
    assert the_error(row(name="é" * 201)).code == ErrorCode.NAME_TOO_LONG


# --- governmentId ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", "1234a", "123456789012345", "", "123.456.789-09", "12.345.678/0001-95"]
)
def test_government_id_invalid(value: str) -> None:
    error = the_error(row(governmentId=value))
    assert (error.code, error.column) == (ErrorCode.GOVERNMENT_ID_INVALID, "GOVERNMENTID")
    assert_readable(error.message, "governmentId", "digits")
    # The id is personal data and must not be echoed back, not even in part.
    if value:
        assert value not in error.message
        digits = "".join(c for c in value if c.isdigit())
        assert not digits or digits[:4] not in error.message


def test_government_id_of_14_digits_and_of_1_digit_are_accepted() -> None:
    assert accepted(row(governmentId="12345678901234")).government_id == "12345678901234"
    assert accepted(row(governmentId="7")).government_id == "7"


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "john.example.com",
        "john doe@example.com",
        "john@exa mple.com",
        "john@example",
        "john@@example.com",
        "@example.com",
        "john@.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_email_invalid(email: str) -> None:
    error = the_error(row(email=email))
    assert (error.code, error.column) == (ErrorCode.EMAIL_INVALID, "eMail")
    assert_readable(error.message, "not a valid address")


@pytest.mark.parametrize(("column", "field"), [("name", "Name"), ("email", "eMail")])
@pytest.mark.parametrize("brk", ["\r", "\n", "\r\n"])
def test_a_line_break_inside_a_name_or_an_email_has_its_own_code(
    column: str, field: str, brk: str
) -> None:
    value = {"name": f'"John{brk}Bcc: eve@example.com"', "email": f'"john{brk}@example.com"'}
    error = the_error(row(**{column: value[column]}))
    assert (error.code, error.column) == (ErrorCode.LINE_BREAK_IN_VALUE, field)
    assert_readable(error.message, "line break")


def test_a_record_spanning_lines_is_one_row_reported_at_its_first_line() -> None:
    # RFC 4180: a quoted value may hold line breaks. The continuation is never a row.
    text = row(email='"john\n@example.com"')
    good = row(name='"Ana\r\nSouza"'.replace("\r\n", " "))
    data = f"{FILE_HEADER}\n{text}\n{good}\n".encode()
    result = validate_file(data)
    assert (result.rows, result.rejected) == (2, 1)
    assert [(e.line, e.code, e.column) for e in result.errors] == [
        (2, ErrorCode.LINE_BREAK_IN_VALUE, "eMail")
    ]
    # The row after the two-line record keeps its physical line number.
    assert [(v.name, v.line) for v in result.valid] == [("Ana Souza", 4)]


def test_email_of_254_characters_is_accepted_and_255_is_not() -> None:
    # Both are shaped the way the expression admits; only the length differs.
    longest = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 57, "com"])
    too_long = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 58, "com"])
    assert (len(longest), len(too_long)) == (254, 255)
    assert accepted(row(email=longest)).email == longest
    assert the_error(row(email=too_long)).code == ErrorCode.EMAIL_INVALID


# --- debtAmount ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ['"12,50"', "abc", "1e3", "", "1.", ".5", "1.2.3", "R$10"])
def test_amount_invalid(amount: str) -> None:
    error = the_error(row(debtAmount=amount))
    assert (error.code, error.column) == (ErrorCode.AMOUNT_INVALID, "debtAmount")
    assert_readable(error.message, "debtAmount", "decimal number")


def test_amount_with_a_comma_gets_a_hint() -> None:
    assert "use a dot for decimals" in the_error(row(debtAmount='"12,50"')).message


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "-0.01", "000"])
def test_amount_not_positive(amount: str) -> None:
    error = the_error(row(debtAmount=amount))
    assert (error.code, error.column) == (ErrorCode.AMOUNT_NOT_POSITIVE, "debtAmount")
    assert_readable(error.message, "above zero")


@pytest.mark.parametrize("amount", ["1.234", "0.001", "5.0001"])
def test_amount_too_precise(amount: str) -> None:
    error = the_error(row(debtAmount=amount))
    assert (error.code, error.column) == (ErrorCode.AMOUNT_TOO_PRECISE, "debtAmount")
    assert_readable(error.message, "2 decimal places")


@pytest.mark.parametrize("amount", ["100000000.00", "100000000", "123456789.5", "999999999"])
def test_amount_too_large(amount: str) -> None:
    error = the_error(row(debtAmount=amount))
    assert (error.code, error.column) == (ErrorCode.AMOUNT_TOO_LARGE, "debtAmount")
    assert_readable(error.message, "99999999.99")


@pytest.mark.parametrize("amount", ["9" * 5000, "+" + "9" * 5000, "9" * 5000 + ".5"])
def test_amount_with_thousands_of_digits_is_too_large(amount: str) -> None:
    # int() refuses strings over 4300 digits; the row must be refused, not crash the block.
    error = the_error(row(debtAmount=amount))
    assert (error.code, error.column) == (ErrorCode.AMOUNT_TOO_LARGE, "debtAmount")


@pytest.mark.parametrize(
    ("amount", "cents"), [("0" * 5000 + "1.5", 150), ("1." + "0" * 5000, 100), ("0" * 5000, 0)]
)
def test_amount_padded_with_thousands_of_zeros_is_read_normally(amount: str, cents: int) -> None:
    if cents:
        assert accepted(row(debtAmount=amount)).amount_cents == cents
    else:
        assert the_error(row(debtAmount=amount)).code == ErrorCode.AMOUNT_NOT_POSITIVE


def test_negative_amount_with_thousands_of_digits_is_not_positive() -> None:
    error = the_error(row(debtAmount="-" + "9" * 5000))
    assert (error.code, error.column) == (ErrorCode.AMOUNT_NOT_POSITIVE, "debtAmount")


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("7811", 781100),
        ("1000000.00", 100000000),
        ("99999999.99", AMOUNT_MAX_CENTS),
        ("1.230", 123),
        ("1.5", 150),
        ("1.05", 105),
        ("0.01", 1),
        ("000012.30", 1230),
        ("+5", 500),
    ],
)
def test_amounts_are_integer_cents(amount: str, cents: int) -> None:
    got = accepted(row(debtAmount=amount)).amount_cents
    assert got == cents
    assert type(got) is int
    assert parse_amount(amount) == cents


def test_amount_above_a_float_exact_range_is_still_exact() -> None:
    # 0.29 * 100 is 28.999999999999996 in floating point.
    assert accepted(row(debtAmount="1234567.29")).amount_cents == 123456729


# --- debtDueDate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "due",
    ["2023-02-30", "2023/01/01", "01-02-2023", "2023-13-01", "2023-1-1", "", "0000-01-01", "x"],
)
def test_due_date_invalid(due: str) -> None:
    error = the_error(row(debtDueDate=due))
    assert (error.code, error.column) == (ErrorCode.DUE_DATE_INVALID, "DebtDueDate")
    assert_readable(error.message, "debtDueDate", "YYYY-MM-DD")


def test_leap_day_is_a_real_date() -> None:
    assert accepted(row(debtDueDate="2024-02-29")).due_date == "2024-02-29"
    assert the_error(row(debtDueDate="2023-02-29")).code == ErrorCode.DUE_DATE_INVALID


# --- debtId ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "debt_id",
    [
        "not-a-uuid",
        "",
        "1adb6ccf-ff16-467f-bea7-5f05d494280",
        "1adb6ccg-ff16-467f-bea7-5f05d494280f",
    ],
)
def test_debt_id_invalid(debt_id: str) -> None:
    error = the_error(row(debtId=debt_id))
    assert (error.code, error.column) == (ErrorCode.DEBT_ID_INVALID, "debtID")
    assert_readable(error.message, "debtId", "UUID")


@pytest.mark.parametrize(
    "debt_id",
    [
        "0x" + "0" * 29 + "1",  # becomes 00000000-0000-0000-0000-000000000001
        "+" + "a" * 31,
        "1adb6ccf_f16467fbea75f05d494280f",
        "{ 1adb6ccff16467fbea75f05d494280f}",
    ],
)
def test_debt_id_that_only_int_accepts_is_invalid(debt_id: str) -> None:
    # int(hex, 16) would take these, and "0x…1" would then collide with "00…1".
    assert the_error(row(debtId=debt_id)).code == ErrorCode.DEBT_ID_INVALID


@pytest.mark.parametrize(
    "debt_id",
    [
        "1ADB6CCF-FF16-467F-BEA7-5F05D494280F",
        "1adb6ccfff16467fbea75f05d494280f",
        "{1adb6ccf-ff16-467f-bea7-5f05d494280f}",
        "urn:uuid:1adb6ccf-ff16-467f-bea7-5f05d494280f",
    ],
)
def test_usual_uuid_spellings_are_one_id(debt_id: str) -> None:
    assert accepted(row(debtId=debt_id)).debt_id == "1adb6ccf-ff16-467f-bea7-5f05d494280f"


@pytest.mark.parametrize(
    "debt_id",
    [
        "1adb6ccf-ff16467f-bea7-5f05d494280f",
        "{1adb6ccf-ff16-467f-bea7-5f05d494280f",
        "1adb6ccf-ff16-467f-bea7-5f05d494280f}",
        "1adb6ccf-ff16-467f-bea7-5f05d494280f0",
    ],
)
def test_partial_uuid_spellings_are_invalid(debt_id: str) -> None:
    assert the_error(row(debtId=debt_id)).code == ErrorCode.DEBT_ID_INVALID


# --- several problems at once ----------------------------------------------------------------


def test_row_with_several_bad_fields_reports_all_and_counts_once() -> None:
    bad = row(
        name="",
        governmentId="12a",
        email="nope",
        debtAmount="-1",
        debtDueDate="2023-02-30",
        debtId="not-a-uuid",
    )
    errors = bad_row(bad)
    assert [(e.column, e.code) for e in errors] == [
        ("Name", ErrorCode.NAME_EMPTY),
        ("GOVERNMENTID", ErrorCode.GOVERNMENT_ID_INVALID),
        ("eMail", ErrorCode.EMAIL_INVALID),
        ("debtAmount", ErrorCode.AMOUNT_NOT_POSITIVE),
        ("DebtDueDate", ErrorCode.DUE_DATE_INVALID),
        ("debtID", ErrorCode.DEBT_ID_INVALID),
    ]


# --- accepted rows and their normal form -----------------------------------------------------


def test_published_example_row_with_its_trailing_space() -> None:
    data = (
        b"name,governmentId,email,debtAmount,debtDueDate,debtId\n"
        b"John Doe,11111111111,johndoe@kanastra.com.br,1000000.00,2022-10-12,"
        b"1adb6ccf-ff16-467f-bea7-5f05d494280f \n"
    )
    result = validate_file(data)
    assert result.errors == []
    assert result.valid == [
        ValidRow(
            "John Doe",
            "11111111111",
            "johndoe@kanastra.com.br",
            100000000,
            "2022-10-12",
            "1adb6ccf-ff16-467f-bea7-5f05d494280f",
            *("", "", "", "", ""),  # no address
            *(0, ""),  # no discount
            2,
            content_hash(
                ("John Doe", "11111111111", "johndoe@kanastra.com.br", 100000000, "2022-10-12")
            ),
        )
    ]


def test_surrounding_whitespace_is_trimmed_from_every_value() -> None:
    padded = {k: f" \t{v}  " for k, v in GOOD.items()}
    got = accepted(row(**padded))
    assert got[:6] == (
        GOOD["name"],
        GOOD["governmentId"],
        GOOD["email"],
        1050,
        GOOD["debtDueDate"],
        GOOD["debtId"],
    )


def test_uppercase_uuid_is_lowercased() -> None:
    assert accepted(row(debtId=GOOD["debtId"].upper())).debt_id == GOOD["debtId"]
    # Same through the careful path, which a quoted name forces.
    assert (
        accepted(row(name='"Doe, John"', debtId=GOOD["debtId"].upper())).debt_id == GOOD["debtId"]
    )


def test_quoted_name_with_a_comma_is_accepted() -> None:
    assert accepted(row(name='"Smith, John"')).name == "Smith, John"


def test_quoted_name_with_an_escaped_quote_is_accepted() -> None:
    assert accepted(row(name='"John ""Johnny"" Doe"')).name == 'John "Johnny" Doe'


def test_crlf_rows_are_accepted() -> None:
    data = f"{FILE_HEADER}\r\n{row()}\r\n{row(name='Ana')}\r\n".encode()
    result = validate_file(data)
    assert result.errors == []
    assert [(v.name, v.line) for v in result.valid] == [("John Doe", 2), ("Ana", 3)]


def test_blank_lines_are_skipped_and_line_numbers_are_physical() -> None:
    lines = [FILE_HEADER, row(name="A"), "", "   ", row(name="B"), "\t", row(debtId="bad"), ""]
    result = validate_file("\n".join(lines).encode() + b"\n")
    assert result.rows == 3
    assert result.rejected == 1
    assert [(v.name, v.line) for v in result.valid] == [("A", 2), ("B", 5)]
    assert [(e.line, e.code) for e in result.errors] == [(7, ErrorCode.DEBT_ID_INVALID)]


def test_last_row_without_newline_is_validated() -> None:
    result = validate_file(f"{FILE_HEADER}\n{row(name='A')}\n{row(name='B')}".encode())
    assert [(v.name, v.line) for v in result.valid] == [("A", 2), ("B", 3)]


def test_content_hash_is_a_signed_64_bit_blake2b_of_the_normal_form() -> None:
    # Stored rows compare this value; its definition must not drift.
    digest = hashlib.blake2b(
        b"John Doe\x1f11144477735\x1fjohn.doe@example.com\x1f1050\x1f2023-01-31",
        digest_size=8,
    ).digest()
    expected = int.from_bytes(digest, "big", signed=True)
    assert accepted(row()).content_hash == expected
    # Padding and quoting do not change what the debt is.
    assert accepted(row(name='" John Doe "', debtAmount="10.500")).content_hash == expected


def test_validate_row_returns_the_same_tuple_as_the_validator() -> None:
    header = parse_header(FILE_HEADER.encode())
    block = RowValidator(header, RULES).validate_block(Block(9, row().encode() + b"\n"))
    assert block.valid == [validate_row(row(), 9, header, RULES)]


# --- what no boleto can carry -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "accepted_"),
    [
        ("1900-01-01", False),
        ("1997-10-06", False),
        ("1997-10-07", True),
        (RULES.latest_due_date.isoformat(), True),
        ((RULES.latest_due_date + dt.timedelta(days=1)).isoformat(), False),
        ("2220-01-01", False),
    ],
)
def test_a_due_date_outside_what_a_boleto_can_carry_is_refused(due: str, accepted_: bool) -> None:
    if accepted_:
        assert accepted(row(debtDueDate=due)).due_date == due
        return
    error = the_error(row(debtDueDate=due))
    assert (error.code, error.column) == (ErrorCode.DUE_DATE_OUT_OF_RANGE, "DebtDueDate")
    assert_readable(error.message, "outside the dates a boleto can carry")


@pytest.mark.parametrize(
    "nil",
    [
        "00000000-0000-0000-0000-000000000000",
        "{00000000-0000-0000-0000-000000000000}",
        "00000000000000000000000000000000",
    ],
)
def test_the_nil_uuid_names_no_debt(nil: str) -> None:
    error = the_error(row(debtId=nil))
    assert (error.code, error.column) == (ErrorCode.DEBT_ID_INVALID, "debtID")
    assert_readable(error.message, "nil UUID")


def test_the_new_rules_hold_on_the_fast_path_of_a_whole_block() -> None:
    # Enough clean rows that the block is judged by the one expression first.
    rows = [row(debtId=str(uuid.UUID(int=n + 1))) for n in range(60)]
    rows[10] = row(debtId="00000000-0000-0000-0000-000000000000")
    rows[20] = row(debtDueDate="1900-01-01")
    data = (FILE_HEADER + "\n" + "\n".join(rows) + "\n").encode()
    result = validate_file(data, max_line_bytes=FAST_PATH_LONGEST_LINE)
    assert [(e.line, e.code) for e in result.errors] == [
        (12, ErrorCode.DEBT_ID_INVALID),
        (22, ErrorCode.DUE_DATE_OUT_OF_RANGE),
    ]
    assert len(result.valid) == 58
