from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import AddressHeader, HeaderRegistry

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer_service.domain.headers import (
    date_header,
    format_mailbox,
    format_unstructured,
    header_line,
    single_line,
)

_REGISTRY = HeaderRegistry()


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("Miss Lisa Wright MD", "Miss Lisa Wright MD"),
        ("  Lisa \r\n Wright\r\nBcc: evil@example.com ", "Lisa Wright Bcc: evil@example.com"),
        ("a\rb\nc\td\x00e\x7ff", "a b c d e f"),
        ("a\u2028b\u2029c\x85d", "a b c d"),
        ("Conceição", "Conceição"),
        ("ab\u202ecd", "abcd"),
        ("a\ud800b", "a?b"),
        ("", ""),
    ],
)
def test_single_line(value: str, line: str) -> None:
    assert single_line(value) == line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Miss Lisa Wright MD", "Miss Lisa Wright MD <lisa@example.com>"),
        ("Dr. John Smith", '"Dr. John Smith" <lisa@example.com>'),
        ('Smith, "Jr" \\ John', '"Smith, \\"Jr\\" \\\\ John" <lisa@example.com>'),
        ("", "lisa@example.com"),
        (" \r\n ", "lisa@example.com"),
    ],
)
def test_format_mailbox(name: str, value: str) -> None:
    assert format_mailbox("To", name, "lisa@example.com") == value


# The second looks like an encoded word: it is encoded itself, so a reader shows it literally.
@pytest.mark.parametrize("name", ["Conceição", "São João", "=?utf-8?q?Boss?="])
def test_format_mailbox_encodes_non_ascii_and_lookalikes(name: str) -> None:
    value = format_mailbox("To", name, "lisa@example.com")
    assert value.isascii() and value.startswith("=?utf-8?")
    header = _REGISTRY("to", value)
    assert isinstance(header, AddressHeader)
    (address,) = header.addresses
    assert (address.display_name, address.addr_spec) == (name, "lisa@example.com")


def test_long_names_are_folded_and_the_address_kept_whole() -> None:
    value = format_mailbox("To", "Maria " * 40, "a-rather-long-address@example.com")
    lines = f"To: {value}".split("\r\n")
    assert len(lines) > 1
    assert all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert "<a-rather-long-address@example.com>" in lines[-1]


def test_format_unstructured_keeps_short_ascii_and_encodes_the_rest() -> None:
    subject = "Seu boleto de R$ 1.234,56 vence em 01/12/2026"
    assert format_unstructured("Subject", subject) == subject
    assert format_unstructured("Subject", "Olá\r\nBcc: x@example.com").startswith("=?utf-8?")
    long = format_unstructured("Subject", "boleto " * 30)
    assert all(len(line) <= 78 for line in f"Subject: {long}".split("\r\n"))


@given(st.text(), st.text())
def test_formatted_values_never_break_a_header(name: str, subject: str) -> None:
    for header, value in [
        ("To", format_mailbox("To", name, "lisa@example.com")),
        ("Subject", format_unstructured("Subject", subject)),
    ]:
        line = header_line(header, value)  # raises on anything but folds
        assert line.endswith(b"\r\n")
        assert all(part.startswith(b" ") for part in line[:-2].split(b"\r\n")[1:])


@pytest.mark.parametrize(
    "value",
    ["a\r\nBcc: evil@example.com", "a\nb", "a\rb", "a\r\n", "Conceição"],
)
def test_header_line_refuses_unfolded_breaks_and_non_ascii(value: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        header_line("Subject", value)


def test_header_line_accepts_folds() -> None:
    assert header_line("Subject", "a\r\n b") == b"Subject: a\r\n b\r\n"


def test_the_date_header_keeps_each_moments_zone_and_drops_microseconds() -> None:
    utc = datetime(2026, 12, 5, 15, 4, 5, 123_456, tzinfo=UTC)
    brasilia = utc.astimezone(timezone(timedelta(hours=-3)))
    # Equal moments, so one would be served the other's header if the zone were not kept.
    assert date_header(utc) == "Sat, 05 Dec 2026 15:04:05 +0000"
    assert date_header(brasilia) == "Sat, 05 Dec 2026 12:04:05 -0300"
    assert date_header(utc.replace(microsecond=999_999)) == date_header(utc)
