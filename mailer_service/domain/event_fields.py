"""Checks the mailer's records share for the fields events bring: an amount in centavos and
a calendar day, each refused with InvalidBoletoMail naming what is wrong."""

from __future__ import annotations

import datetime as dt

from .errors import InvalidBoletoMail

# The barcode's amount field has ten digits of centavos.
MAX_AMOUNT_CENTS = 9_999_999_999


def check_amount_cents(cents: object) -> None:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise InvalidBoletoMail(f"amount must be int centavos, got {cents!r}")
    if not 0 <= cents <= MAX_AMOUNT_CENTS:
        raise InvalidBoletoMail(f"amount of {cents} centavos is out of range")


def check_day(value: object, what: str) -> None:
    # A datetime is a date too, but would print its time in the message.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidBoletoMail(f"{what} must be a date, got {value!r}")


def event_day(text: str, what: str) -> dt.date:
    """An event's ISO 8601 day."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidBoletoMail(f"{what} {text!r} is not ISO 8601") from None
