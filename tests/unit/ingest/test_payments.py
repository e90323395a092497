"""Payments as the ingest service counts them: once per debt, never per event."""

from __future__ import annotations

import datetime as dt
import uuid

from ingest_service.domain.payments import Payment, Tally, read_payments, tally
from ingest_service.domain.report import BoletoStatus, EmailStatus, RowOutcome, debt_line

A = "6f1c9a52-0d7e-4c8e-9a51-2b7d1e0c3f11"
B = "0b0e4f43-8d55-4a0b-a0f1-5f7d0a3c9e22"


def test_each_debt_is_read_once_and_the_first_payment_heard_of_wins():
    read = read_payments(
        [
            (A, 10_000, "2026-11-30"),
            (B, 5_000, "2026-12-01"),
            (A, 10_000, "2026-11-30"),  # the same payment again
            (A, 99_999, "2026-12-24"),  # another word on a debt already paid
        ]
    )
    assert read.payments == [
        Payment(uuid.UUID(A).bytes, 10_000, dt.date(2026, 11, 30)),
        Payment(uuid.UUID(B).bytes, 5_000, dt.date(2026, 12, 1)),
    ]
    assert (read.repeated, read.unreadable, read.undated) == (2, [], 0)


def test_an_id_in_another_spelling_is_the_same_debt():
    read = read_payments([(A, 1, "2026-11-30"), (A.upper().replace("-", ""), 2, "2026-11-30")])
    assert [p.paid_cents for p in read.payments] == [1]
    assert read.repeated == 1


def test_what_no_store_could_take_is_set_aside_not_counted():
    read = read_payments(
        [("not-a-debt", 100, "2026-11-30"), ("", 100, "2026-11-30"), (B, -1, "2026-11-30")]
    )
    assert read.payments == []
    assert read.unreadable == ["not-a-debt", "", B]


def test_a_payment_without_a_readable_day_still_counts():
    read = read_payments([(A, 700, ""), (B, 800, "30/11/2026")])
    assert [(p.paid_cents, p.paid_on) for p in read.payments] == [(700, None), (800, None)]
    assert read.undated == 2


def test_a_timestamp_is_read_as_its_day():
    (payment,) = read_payments([(A, 1, "2026-11-30T13:45:00-03:00")]).payments
    assert payment.paid_on == dt.date(2026, 11, 30)


def test_the_tally_counts_debts_and_sums_cents_per_upload():
    assert tally([(1, 100), (2, 50), (1, 250), (1, 0)]) == {1: Tally(3, 350), 2: Tally(1, 50)}
    assert tally([]) == {}


def test_a_paid_debt_shows_its_payment_in_the_report():
    line = debt_line(2, A, RowOutcome.ACCEPTED, 1, 1, "00000000001", "", 12_345, "2026-11-30")
    assert (line.boleto, line.nosso_numero, line.email) == (
        BoletoStatus.ISSUED,
        "00000000001",
        EmailStatus.SENT,
    )
    assert (line.paid_cents, line.paid_on) == (12_345, "2026-11-30")


def test_an_unpaid_debt_shows_no_payment():
    line = debt_line(2, A, RowOutcome.DUPLICATE, 1, 0, "00000000001", "")
    assert (line.paid_cents, line.paid_on) == (0, "")
    assert line.email == EmailStatus.PENDING


def test_a_payment_heard_of_before_the_boleto_still_means_a_boleto():
    line = debt_line(2, A, RowOutcome.ACCEPTED, 0, 0, "", "", 0, "2026-11-30")
    assert line.boleto == BoletoStatus.ISSUED
    assert (line.paid_cents, line.paid_on) == (0, "2026-11-30")
