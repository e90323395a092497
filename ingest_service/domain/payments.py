"""Payments the bank reported, as the ingest service accounts for them: once per debt.

A debt is paid once. The same payment can arrive again (a redelivered event, a retorno file
processed twice, two files reporting the same title), so what counts is the debt, never the
event: the first payment heard of for a debt is the one kept.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Payment:
    """One debt's payment. `key` is the debt id's 16 bytes: the form the store keys by."""

    key: bytes
    paid_cents: int
    # None when the bank's date could not be read; the payment still counts.
    paid_on: dt.date | None


@dataclass(slots=True)
class ReadPayments:
    """The payments of one or more events, one per debt, and what could not be read."""

    payments: list[Payment] = field(default_factory=list)
    # Debt ids of payments no store could take: not an id at all, or an impossible amount.
    unreadable: list[str] = field(default_factory=list)
    # Of those, the well-formed ids whose amount no bank reports (zero, negative or above what
    # a barcode holds): refused, and the debt stays open for the real payment.
    refused: list[str] = field(default_factory=list)
    # Payments dropped because an earlier one in the same batch named the same debt.
    repeated: int = 0
    # Payments whose date was unreadable (kept, without a date).
    undated: int = 0


# (debt_id, paid_cents, paid_on) as an event carries it.
RawPayment = tuple[str, int, str]

# A boleto's barcode holds ten digits of centavos; a bank cannot report more paid on one, and
# a larger figure would overflow the upload's counters.
MAX_PAID_CENTS = 99_999_999_99


def plausible_amount(paid_cents: int) -> bool:
    return 0 < paid_cents <= MAX_PAID_CENTS


def read_payments(raw: Iterable[RawPayment]) -> ReadPayments:
    """One payment per debt, in the order first heard of. An amount of zero or less (or above
    a barcode's) is no payment a bank reports: it is set aside with the unreadable ids, to be
    logged, never counted, and it does not stand in the way of a later real payment."""
    out = ReadPayments()
    seen: set[bytes] = set()
    for debt_id, paid_cents, paid_on in raw:
        try:
            key = uuid.UUID(debt_id).bytes
        except ValueError:
            out.unreadable.append(debt_id)
            continue
        if not plausible_amount(paid_cents):
            out.unreadable.append(debt_id)
            out.refused.append(debt_id)
            continue
        if key in seen:
            out.repeated += 1
            continue
        seen.add(key)
        day = _day(paid_on)
        if day is None:
            out.undated += 1
        out.payments.append(Payment(key, paid_cents, day))
    return out


@dataclass(frozen=True, slots=True)
class Tally:
    debts: int
    cents: int


def tally(recorded: Iterable[tuple[int, int]]) -> dict[int, Tally]:
    """Per upload, how many debts were newly paid and for how much, from (upload_no,
    paid_cents) of each payment recorded for the first time."""
    counts: dict[int, list[int]] = {}
    for upload_no, cents in recorded:
        entry = counts.setdefault(upload_no, [0, 0])
        entry[0] += 1
        entry[1] += cents
    return {no: Tally(n, c) for no, (n, c) in counts.items()}


# A retorno's payments fall on a handful of days: each is read once.
@lru_cache(maxsize=256)
def _day(text: str) -> dt.date | None:
    # Only the calendar date: a bank's retorno knows no time of day.
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None
