"""The printed Pix code follows the early-payment discount: the discounted amount while it
holds, the whole amount once its date has passed."""

from __future__ import annotations

import datetime as dt

import pytest

from boleto_service.documents.model import BoletoDocument
from boleto_service.domain.beneficiaries import Beneficiaries, Beneficiary
from boleto_service.domain.boleto import Boleto, Payer
from boleto_service.domain.discounts import Discount
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.domain.pix import PixMerchant
from boleto_service.service import pdf
from tests.support.beneficiaries import BB

MERCHANT = PixMerchant("11222333000181", "Cobrancas Exemplo", "Sao Paulo")
ISSUED_ON = dt.date(2026, 12, 1)
DISCOUNT = Discount(1_250, dt.date(2026, 12, 10))


def _boleto() -> Boleto:
    issuer = BoletoIssuer(BB, pix=MERCHANT)
    numbers = issuer.pix_for(
        issuer.issue(42, 10_000, dt.date(2026, 12, 20), ISSUED_ON), DISCOUNT.cents
    )
    payer = Payer("Ana", "52998224725", 2, "ana@example.com")
    return Boleto(
        "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10", "u", 2, 42, ISSUED_ON, payer, numbers,
        discount=DISCOUNT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("today", "amount"),
    [(dt.date(2026, 12, 10), "540587.50"), (dt.date(2026, 12, 11), "5406100.00")],
)
def test_the_pdfs_pix_code_carries_the_amount_due_on_the_day(
    monkeypatch: pytest.MonkeyPatch, today: dt.date, amount: str
) -> None:
    printed: list[BoletoDocument] = []

    def render(doc: BoletoDocument) -> bytes:
        printed.append(doc)
        return b"%PDF-"

    monkeypatch.setattr(pdf, "render_pdf", render)
    beneficiaries = Beneficiaries([Beneficiary(key="default", config=BB, pix=MERCHANT)])
    boleto = _boleto()
    assert "540587.50" in boleto.numbers.pix_payload  # as issued, the discount taken

    pdf.render_boleto(beneficiaries, boleto, today)

    [document] = printed
    assert amount in document.pix_payload
    # The barcode always charges the whole amount: the bank applies the discount by date.
    assert int(document.barcode[9:19]) == 10_000
