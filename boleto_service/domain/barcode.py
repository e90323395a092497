"""The 44-digit boleto barcode: composition, parsing and check-digit verification.

Layout (FEBRABAN): bank (3) + currency (1) + general DV (1) + due-date factor (4) +
amount in centavos (10) + campo livre (25, bank-specific).
"""

from __future__ import annotations

from dataclasses import dataclass

from .checkdigits import mod11_barcode
from .digits import ensure_digits, strip_separators
from .due_factor import MAX_FACTOR, MIN_FACTOR
from .errors import CheckDigitMismatch, InvalidCheckDigit, InvalidDueDate, MalformedCode
from .money import ensure_barcode_amount

BARCODE_LENGTH = 44
CAMPO_LIVRE_LENGTH = 25
CURRENCY_REAL = "9"
DV_POSITION = 4  # zero-based index of the general check digit


@dataclass(frozen=True)
class BarcodeFields:
    """The fields a barcode carries, decoded."""

    bank_code: str
    currency: str
    check_digit: int
    factor: int
    amount_cents: int
    campo_livre: str


def _without_dv(barcode: str) -> str:
    return barcode[:DV_POSITION] + barcode[DV_POSITION + 1 :]


def build_barcode(bank_code: str, factor: int, amount_cents: int, campo_livre: str) -> str:
    """Compose the 44 digits, computing the general modulo 11 DV."""
    ensure_digits(bank_code, "bank code", 3)
    ensure_digits(campo_livre, "campo livre", CAMPO_LIVRE_LENGTH)
    if isinstance(factor, bool) or not isinstance(factor, int):
        raise InvalidDueDate(f"a due-date factor is an integer, got {factor!r}")
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise InvalidDueDate(f"due-date factor must be {MIN_FACTOR}..{MAX_FACTOR}, got {factor}")
    ensure_barcode_amount(amount_cents)
    payload = f"{bank_code}{CURRENCY_REAL}{factor:04d}{amount_cents:010d}{campo_livre}"
    dv = mod11_barcode(payload)
    return payload[:DV_POSITION] + str(dv) + payload[DV_POSITION:]


def normalize_barcode(text: str) -> str:
    """Accept a barcode with printing separators; return its 44 digits or refuse."""
    return ensure_digits(strip_separators(text), "barcode", BARCODE_LENGTH)


def barcode_mismatches(barcode: str) -> tuple[CheckDigitMismatch, ...]:
    """Every wrong check digit in the barcode (empty when it verifies)."""
    digits = normalize_barcode(barcode)
    expected = mod11_barcode(_without_dv(digits))
    found = int(digits[DV_POSITION])
    if expected == found:
        return ()
    where = "general check digit (barcode position 5, modulo 11)"
    return (CheckDigitMismatch(where, expected, found),)


def validate_barcode(barcode: str) -> str:
    """The normalised barcode, or InvalidCheckDigit naming the wrong digit."""
    digits = normalize_barcode(barcode)
    mismatches = barcode_mismatches(digits)
    if mismatches:
        raise InvalidCheckDigit("barcode", mismatches)
    return digits


def parse_barcode(barcode: str) -> BarcodeFields:
    """Decode a verified barcode into its fields."""
    digits = validate_barcode(barcode)
    if digits[3] != CURRENCY_REAL:
        raise MalformedCode(f"currency code must be {CURRENCY_REAL} (real), got {digits[3]}")
    return BarcodeFields(
        bank_code=digits[0:3],
        currency=digits[3],
        check_digit=int(digits[4]),
        factor=int(digits[5:9]),
        amount_cents=int(digits[9:19]),
        campo_livre=digits[19:44],
    )
