"""The debtor's page of a boleto: what to pay today by the overdue policy's own rules, where
it stands, and the payer's document masked."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from boleto_service.domain.boleto import BankState, BankStatus, Boleto, Payer
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.discounts import Discount
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.domain.payment_page import (
    PageStatus,
    PaymentPage,
    masked_document,
    page_for,
)
from boleto_service.domain.pix import PixMerchant
from boleto_service.domain.pix_today import with_pix_for
from tests.support.beneficiaries import BB

ISSUED_ON = dt.date(2026, 12, 1)
DUE = dt.date(2026, 12, 20)
POLICY = OverduePolicy(fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))
MERCHANT = PixMerchant("11222333000181", "Cobrancas Exemplo", "Sao Paulo")


def _boleto(discount: Discount | None = None, bank: BankState | None = None) -> Boleto:
    issuer = BoletoIssuer(BB, POLICY, pix=MERCHANT)
    numbers = issuer.issue(42, 10_000, DUE, ISSUED_ON)
    if discount is not None:
        numbers = issuer.pix_for(numbers, discount.cents)
    payer = Payer("Ana", "52998224725", 2, "ana@example.com")
    return Boleto(
        "d-1", "u", 2, 42, ISSUED_ON, payer, numbers, bank=bank or BankState(), discount=discount
    )


def _page(boleto: Boleto, today: dt.date) -> PaymentPage:
    return page_for(
        with_pix_for(boleto, MERCHANT, today), "Cobranças", "11222333000181", POLICY, today
    )


def test_by_its_due_date_the_printed_amount_with_its_pix_code() -> None:
    page = _page(_boleto(), DUE)
    assert page.status == PageStatus.OPEN
    assert (page.amount_due_cents, page.fine_cents, page.interest_cents) == (10_000, 0, 0)
    assert page.pix_payload and "100.00" in page.pix_payload
    assert page.payer_document_masked == "***.982.247-**"
    assert "Ana" not in repr(page) and "ana@" not in repr(page)


def test_past_due_the_fine_once_and_interest_per_day_since_the_due_date() -> None:
    # 40 days late: 2% fine (200) and 1%/month pro rata (10,000 x 1% x 40/30 = 133.33 -> 133).
    page = _page(_boleto(), DUE + dt.timedelta(days=40))
    assert page.status == PageStatus.OVERDUE
    assert (page.fine_cents, page.interest_cents, page.amount_due_cents) == (200, 133, 10_333)
    # A static Pix code carries the printed amount: not offered once it is wrong.
    assert page.pix_payload == ""


def test_an_early_payment_discount_holds_to_its_date_pix_included() -> None:
    discount = Discount(1_250, dt.date(2026, 12, 10))
    on_time = _page(_boleto(discount), dt.date(2026, 12, 10))
    assert (on_time.amount_due_cents, on_time.discount_cents) == (8_750, 1_250)
    assert "87.50" in on_time.pix_payload
    later = _page(_boleto(discount), dt.date(2026, 12, 11))
    assert (later.amount_due_cents, later.discount_cents) == (10_000, 0)
    assert "100.00" in later.pix_payload


@pytest.mark.parametrize(
    ("status", "shown"),
    [(BankStatus.WRITTEN_OFF, PageStatus.CLOSED), (BankStatus.REJECTED, PageStatus.CLOSED)],
)
def test_a_boleto_withdrawn_or_refused_is_not_to_be_paid(
    status: BankStatus, shown: PageStatus
) -> None:
    page = _page(_boleto(bank=BankState(status=status)), DUE)
    assert page.status == shown
    assert page.pix_payload == ""


def test_paid_says_when_and_how_much_even_past_due() -> None:
    boleto = _boleto(
        bank=BankState(status=BankStatus.PAID, paid_cents=10_000, paid_on=dt.date(2026, 12, 18))
    )
    page = _page(boleto, DUE + dt.timedelta(days=90))
    assert (page.status, page.paid_on, page.paid_cents) == (
        PageStatus.PAID,
        dt.date(2026, 12, 18),
        10_000,
    )
    assert page.fine_cents == 0


@pytest.mark.parametrize(
    ("document", "masked"),
    [
        ("52998224725", "***.982.247-**"),
        ("529.982.247-25", "***.982.247-**"),
        ("11222333000181", "11.222.333/****-**"),
        ("", "***"),
        ("X123", "***"),
    ],
)
def test_documents_are_masked(document: str, masked: str) -> None:
    assert masked_document(document) == masked


def test_the_page_keeps_the_issued_numbers() -> None:
    boleto = _boleto()
    page = _page(replace(boleto), DUE)
    assert page.digitable_line == boleto.numbers.linha_digitavel_formatted
