"""The header fixes which value of a row is which; a bad header must say what is wrong."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest_service.domain.columns import REQUIRED_COLUMN_NAMES as COLUMN_NAMES
from ingest_service.domain.errors import HeaderError
from ingest_service.domain.header import Header, parse_header

CANONICAL = b"name,governmentId,email,debtAmount,debtDueDate,debtId"
ADDRESS = ("address", "district", "zipCode", "city", "state")
OPTIONAL = (*ADDRESS, "discountAmount", "discountUntil")
NO_ADDRESS = (-1,) * len(OPTIONAL)


def test_canonical_header_maps_each_column_to_its_own_position() -> None:
    header = parse_header(CANONICAL)
    assert header == Header(names=COLUMN_NAMES, positions=(0, 1, 2, 3, 4, 5, *NO_ADDRESS))
    assert header.present == (0, 1, 2, 3, 4, 5)
    # Canonical means every column, the optional ones too, in the table's order.
    assert not header.is_canonical_order
    assert parse_header(CANONICAL + b"," + ",".join(OPTIONAL).encode()).is_canonical_order


def test_positions_follow_the_canonical_order_for_a_shuffled_header() -> None:
    header = parse_header(b"debtId,name,email,governmentId,debtDueDate,debtAmount")
    # positions[i] is where COLUMN_NAMES[i] sits in the file.
    assert header.positions == (1, 3, 2, 5, 4, 0, *NO_ADDRESS)
    assert not header.is_canonical_order
    assert header.column_at(0) == "debtId"
    assert header.column_at(header.positions[COLUMN_NAMES.index("debtAmount")]) == "debtAmount"


@pytest.mark.parametrize("spelling", ["debtId", "debtID", "DEBTID", "debtid"])
def test_column_names_match_without_regard_to_case(spelling: str) -> None:
    header = parse_header(f"name,governmentId,email,debtAmount,debtDueDate,{spelling}".encode())
    assert header.positions == (0, 1, 2, 3, 4, 5, *NO_ADDRESS)
    # Error messages quote the column as the file spells it.
    assert header.column_at(5) == spelling


def test_surrounding_whitespace_is_ignored() -> None:
    header = parse_header(b" name ,\tgovernmentId, email,debtAmount ,debtDueDate,  debtId  ")
    assert header.names == COLUMN_NAMES
    assert header.positions == (0, 1, 2, 3, 4, 5, *NO_ADDRESS)


def test_bom_and_crlf_are_ignored() -> None:
    header = parse_header(b"\xef\xbb\xbf" + CANONICAL + b"\r\n")
    assert header.names == COLUMN_NAMES
    assert header.positions == (0, 1, 2, 3, 4, 5, *NO_ADDRESS)


def test_quoted_column_names_are_read_as_csv() -> None:
    header = parse_header(b'"name","governmentId",email,debtAmount,debtDueDate,"debtId"')
    assert header.names == COLUMN_NAMES


@st.composite
def shuffled_headers(draw: st.DrawFn) -> tuple[list[str], bytes]:
    order = draw(st.permutations(COLUMN_NAMES))
    spelled = []
    cases: list[Callable[[str], str]] = [str, str.upper, str.lower, str.swapcase]
    for name in order:
        case = draw(st.sampled_from(cases))
        pad = draw(st.sampled_from(["", " ", "\t"]))
        spelled.append(pad + case(name) + pad)
    return list(order), ",".join(spelled).encode()


@given(shuffled_headers())
def test_any_order_and_case_gives_the_right_positions(case: tuple[list[str], bytes]) -> None:
    order, line = case
    header = parse_header(line)
    for canonical_index, canonical in enumerate(COLUMN_NAMES):
        position = header.positions[canonical_index]
        assert order[position] == canonical
        assert header.column_at(position).lower() == canonical.lower()


def _message(line: bytes) -> str:
    with pytest.raises(HeaderError) as caught:
        parse_header(line)
    return str(caught.value)


def test_missing_column_is_named() -> None:
    message = _message(b"name,governmentId,debtAmount,debtDueDate,debtId")
    assert "missing column(s): email" in message
    assert "unknown" not in message


def test_several_missing_columns_are_all_named() -> None:
    message = _message(b"name,governmentId,debtAmount,debtId")
    assert "missing column(s): email, debtDueDate" in message


def test_unknown_column_is_named() -> None:
    message = _message(CANONICAL + b",phone")
    assert "unknown column(s): phone" in message
    assert "missing" not in message


def test_misspelled_column_is_both_unknown_and_missing() -> None:
    message = _message(b"name,governmentId,e-mail,debtAmount,debtDueDate,debtId")
    assert "missing column(s): email" in message
    assert "unknown column(s): e-mail" in message


def test_empty_column_name_is_reported_as_unknown() -> None:
    message = _message(CANONICAL + b",")
    assert "unknown column(s): (empty)" in message


def test_repeated_column_is_named_in_the_files_spelling() -> None:
    message = _message(CANONICAL + b",NAME")
    assert "repeated column(s): NAME" in message


def test_error_message_lists_the_expected_columns() -> None:
    message = _message(b"foo")
    assert ",".join(COLUMN_NAMES) in message


@pytest.mark.parametrize("line", [b"", b"\r\n", b"   ", b"\xef\xbb\xbf"])
def test_empty_file_or_blank_first_line(line: bytes) -> None:
    message = _message(line)
    assert "empty" in message
    assert ",".join(COLUMN_NAMES) in message


def test_header_that_is_not_utf8() -> None:
    assert "UTF-8" in _message(b"n\xe4me,governmentId,email,debtAmount,debtDueDate,debtId")


def test_header_with_broken_quoting() -> None:
    assert "CSV" in _message(b'"name,governmentId,email,debtAmount,debtDueDate,debtId')


UUID = "cb0e23a4-3f0b-4fc8-9d5b-9b1f2f6f3e7d"


def test_a_file_without_its_header_never_has_its_first_row_quoted() -> None:
    row = b"Lisa Wright,12345678909,lisa@example.com,100.00,2030-01-01," + UUID.encode()
    message = _message(row)
    assert "not a header" in message
    for value in row.decode().split(","):
        assert value not in message


def test_an_unknown_value_that_is_not_a_name_is_counted_not_quoted() -> None:
    message = _message(CANONICAL + b",Lisa Wright,lisa@example.com")
    assert "Lisa" not in message and "lisa@" not in message
    assert "unknown column(s): 2 not shown" in message


def test_a_typo_gets_a_suggestion() -> None:
    message = _message(b"name,governmentId,email,debtAmout,debtDueDate,debtId")
    assert "unknown column(s): debtAmout (did you mean debtAmount?)" in message
