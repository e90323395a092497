"""End to end on the printed barcode: render, rasterize as a printer would, decode with zbar.

pdftoppm (poppler-utils) and zbarimg (zbar-tools) stand in for the bank's scanner. Without
them these tests skip, except in CI, where they fail: there the tools are part of the setup.
"""

from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from boleto_service.documents import BoletoDocument, PayerIdKind, render_pdf
from boleto_service.domain import BeneficiaryConfig, OverduePolicy, issue_boleto
from boleto_service.domain.boleto import Payer
from tests.support.beneficiaries import BB, ITAU
from tests.support.printing import printable
from tests.support.scan import rasterize, scan
from tests.support.tools import require_tool

TODAY = date(2025, 11, 26)
POLICY = OverduePolicy(fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))

# (beneficiary, sequence, amount, original due date): both banks, overdue and current debts,
# the smallest and largest amounts, and sequences at both ends of each bank's range.
CASES: list[tuple[BeneficiaryConfig, int, int | Decimal, date]] = [
    (BB, 1, 1, date(2026, 1, 15)),
    (BB, 42, Decimal("1234.56"), date(2024, 10, 4)),
    (BB, 9_999_999_999, 9_999_999_999, date(2026, 3, 1)),
    (BB, 777, Decimal("10000.00"), date(2022, 10, 5)),
    (ITAU, 1, Decimal("1000.00"), date(2023, 6, 30)),
    (ITAU, 12_345_678, 9_999_999, date(2026, 1, 15)),
    (ITAU, 99_999_999, Decimal("5432.10"), date(2025, 11, 26)),
]


def document(
    config: BeneficiaryConfig, sequence: int, amount: int | Decimal, due: date
) -> BoletoDocument:
    issued = issue_boleto(config, sequence, amount, due, TODAY, POLICY)
    payer = Payer("Miss Lisa Wright MD", "4821", PayerIdKind.OTHER, "")
    return BoletoDocument.of(printable(issued, payer, TODAY), config)


@pytest.mark.parametrize(("config", "sequence", "amount", "due"), CASES)
def test_scanner_reads_exactly_the_44_digits(
    tmp_path: Path, config: BeneficiaryConfig, sequence: int, amount: int | Decimal, due: date
) -> None:
    doc = document(config, sequence, amount, due)
    assert scan(rasterize(render_pdf(doc), tmp_path, 300)) == [doc.barcode]


@pytest.mark.parametrize("dpi", [150, 600])
def test_scanner_reads_it_at_other_resolutions(tmp_path: Path, dpi: int) -> None:
    doc = document(ITAU, 12_345_678, 9_999_999, date(2026, 1, 15))
    assert scan(rasterize(render_pdf(doc), tmp_path, dpi)) == [doc.barcode]


def test_text_layer_reads_back_with_its_accents(tmp_path: Path) -> None:
    doc = document(*CASES[1])
    source = tmp_path / "boleto.pdf"
    source.write_bytes(render_pdf(doc))
    result = subprocess.run(
        [require_tool("pdftotext"), "-layout", str(source), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = result.stdout
    for expected in (
        "Ficha de Compensação",
        "Beneficiário",
        "Cobranças Exemplo Ltda",
        "Identificação 4821",
        doc.linha_digitavel,
        "1.433,32",
    ):
        assert expected in text, expected
