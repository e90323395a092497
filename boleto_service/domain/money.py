"""Amounts as integer centavos: conversion at the edges and the barcode's 10-digit limit."""

from __future__ import annotations

from decimal import Decimal

from .errors import InvalidAmount

# Barcode positions 10-19 hold the amount in centavos: ten digits, at most R$ 99.999.999,99.
MAX_AMOUNT_CENTS = 9_999_999_999
_CENT = Decimal("0.01")


def to_cents(amount: int | Decimal) -> int:
    """An int is already centavos; a Decimal is reais and must be exact to the centavo."""
    if isinstance(amount, bool):
        raise InvalidAmount(f"an amount is int centavos or Decimal reais, got {amount!r}")
    if isinstance(amount, int):
        cents = amount
    elif isinstance(amount, Decimal):
        if not amount.is_finite():
            raise InvalidAmount(f"amount must be a finite number, got {amount}")
        if amount != amount.quantize(_CENT):
            # Rounding here would silently bill a different amount than the debt says.
            raise InvalidAmount(f"amount {amount} has fractions of a centavo")
        cents = int(amount.scaleb(2))
    else:
        # Floats cannot hold most centavo values exactly, so they are refused outright.
        raise InvalidAmount(
            f"an amount is int centavos or Decimal reais, got {type(amount).__name__}"
        )
    ensure_barcode_amount(cents)
    return cents


def ensure_barcode_amount(cents: int) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise InvalidAmount(f"amount in centavos must be an int, got {cents!r}")
    if cents < 0:
        raise InvalidAmount(f"amount cannot be negative, got {cents} centavos")
    if cents > MAX_AMOUNT_CENTS:
        raise InvalidAmount(
            f"amount {format_reais(cents)} exceeds the barcode maximum of "
            f"{format_reais(MAX_AMOUNT_CENTS)}"
        )
    return cents


def cents_to_reais(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def format_reais(cents: int) -> str:
    """Brazilian notation without the currency sign: 123456789 -> '1.234.567,89'."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{fraction:02d}"
