"""The 47-digit linha digitável: conversion to and from the barcode, formatting, verification.

Fields: 1 = barcode[0:4] + barcode[19:24] + DV; 2 = barcode[24:34] + DV;
3 = barcode[34:44] + DV (DVs modulo 10); 4 = the barcode's general DV;
5 = factor + amount (barcode[5:19]).
"""

from __future__ import annotations

from .barcode import DV_POSITION, normalize_barcode, validate_barcode
from .checkdigits import mod10, mod11_barcode
from .digits import ensure_digits, strip_separators
from .errors import CheckDigitMismatch, InvalidCheckDigit

LINHA_LENGTH = 47

# (start, end) of each of the three mod-10 protected fields, DV included as the last digit.
_FIELDS = ((0, 10), (10, 21), (21, 32))
_GENERAL_DV = 32
_FACTOR_AND_AMOUNT = slice(33, 47)


def barcode_to_linha(barcode: str) -> str:
    """The 47 digits of the linha digitável for a verified barcode."""
    return linha_for_built_barcode(validate_barcode(barcode))


def linha_for_built_barcode(digits: str) -> str:
    """barcode_to_linha for 44 digits build_barcode just made: checking them again would
    only cost time on the path that issues a million boletos."""
    first, second, third = digits[0:4] + digits[19:24], digits[24:34], digits[34:44]
    return (
        f"{first}{mod10(first)}{second}{mod10(second)}{third}{mod10(third)}"
        f"{digits[DV_POSITION]}{digits[5:19]}"
    )


def formatted_linha_for_built_barcode(digits: str) -> str:
    """format_linha(linha_for_built_barcode(digits)), without reading its own digits back."""
    return _grouped(linha_for_built_barcode(digits))


def normalize_linha(text: str) -> str:
    """Accept a linha with its printed dots and spaces; return the 47 digits or refuse."""
    return ensure_digits(strip_separators(text), "linha digitável", LINHA_LENGTH)


def _linha_to_barcode_unchecked(linha: str) -> str:
    return (
        linha[0:4]
        + linha[_GENERAL_DV]
        + linha[_FACTOR_AND_AMOUNT]
        + linha[4:9]
        + linha[10:20]
        + linha[21:31]
    )


def linha_mismatches(linha: str) -> tuple[CheckDigitMismatch, ...]:
    """Every wrong check digit in the linha digitável, naming its field."""
    digits = normalize_linha(linha)
    found: list[CheckDigitMismatch] = []
    for number, (start, end) in enumerate(_FIELDS, start=1):
        expected = mod10(digits[start : end - 1])
        if expected != int(digits[end - 1]):
            found.append(
                CheckDigitMismatch(f"field {number} (modulo 10)", expected, int(digits[end - 1]))
            )
    barcode = _linha_to_barcode_unchecked(digits)
    general = mod11_barcode(barcode[:DV_POSITION] + barcode[DV_POSITION + 1 :])
    if general != int(digits[_GENERAL_DV]):
        found.append(
            CheckDigitMismatch(
                "field 4 (general check digit, modulo 11)", general, int(digits[_GENERAL_DV])
            )
        )
    return tuple(found)


def validate_linha(linha: str) -> str:
    """The normalised linha, or InvalidCheckDigit naming every wrong field."""
    digits = normalize_linha(linha)
    mismatches = linha_mismatches(digits)
    if mismatches:
        raise InvalidCheckDigit("linha digitável", mismatches)
    return digits


def linha_to_barcode(linha: str) -> str:
    """The 44-digit barcode behind a verified linha digitável."""
    return normalize_barcode(_linha_to_barcode_unchecked(validate_linha(linha)))


def format_linha(linha: str) -> str:
    """Printed form: 'AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D FFFFFFFFFFFFFF'."""
    return _grouped(normalize_linha(linha))


def _grouped(d: str) -> str:
    return f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"
