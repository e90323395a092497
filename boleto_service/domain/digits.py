"""Normalising and checking strings that must hold only decimal digits."""

from __future__ import annotations

from .errors import MalformedCode

_SEPARATORS = str.maketrans("", "", " .-/\t\r\n")


def strip_separators(text: str) -> str:
    """Drop the spaces, dots, dashes and slashes people use to print codes."""
    return text.translate(_SEPARATORS)


def ensure_digits(value: str, what: str, length: int | None = None) -> str:
    # str.isdigit() also accepts superscripts and other Unicode digits; codes are ASCII only.
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        raise MalformedCode(f"{what} must contain only digits 0-9, got {value!r}")
    if length is not None and len(value) != length:
        raise MalformedCode(f"{what} must have {length} digits, got {len(value)}")
    return value
