"""The printed boleto: document fields, PDF structure, determinism, size and barcode pattern."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
import unicodedata
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.documents import (
    MAX_INSTRUCTION_LINES,
    BoletoDocument,
    PayerIdKind,
    bank_code_with_dv,
    render_pdf,
)
from boleto_service.documents.barcode import bars, elements, total_modules
from boleto_service.documents.layout import (
    BARCODE_HEIGHT,
    BARCODE_LENGTH,
    PAGE_HEIGHT_MM,
    QUIET_ZONE,
    boleto_layout,
    pt,
)
from boleto_service.documents.render import field_texts
from boleto_service.documents.text import Font, encode, escape, fit, width
from boleto_service.domain import OverduePolicy, issue_boleto
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.boleto import Payer, PayerAddress
from boletos.platform.text import CONTROLS, DIRECTION_MARKS, code_points
from tests.support.beneficiaries import BB, ITAU
from tests.support.printing import DEBT_ID, printable
from tests.support.tools import require_tool

TODAY = date(2025, 11, 26)
POLICY = OverduePolicy(fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))


ADDRESS = PayerAddress("Rua São Bento, 365 - 4º andar", "Centro", "01011100", "São Paulo", "SP")
ADDRESS_LINE = "Rua São Bento, 365 - 4º andar - Centro - CEP 01011-100 - São Paulo/SP"


def overdue_document(**payer: object) -> BoletoDocument:
    issued = issue_boleto(BB, 42, Decimal("1234.56"), date(2024, 10, 4), TODAY, POLICY)
    fields: dict[str, Any] = {
        "name": "Miss Lisa Wright MD",
        "government_id": "52998224725",
        "government_id_kind": PayerIdKind.CPF,
        "email": "",
        "address": ADDRESS,
    }
    fields.update(payer)
    return BoletoDocument.of(printable(issued, Payer(**fields), TODAY, sequence=42), BB)


def document_for(config: BeneficiaryConfig, sequence: int) -> BoletoDocument:
    issued = issue_boleto(config, sequence, 150_000, date(2026, 1, 15), TODAY, POLICY)
    payer = Payer("Empresa Pagadora S.A.", "11222333000181", PayerIdKind.CNPJ, "")
    return BoletoDocument.of(printable(issued, payer, TODAY), config)


def current_document() -> BoletoDocument:
    issued = issue_boleto(ITAU, 12345678, 150_000, date(2026, 1, 15), TODAY, POLICY)
    payer = Payer("Empresa Pagadora S.A.", "11222333000181", PayerIdKind.CNPJ, "")
    return BoletoDocument.of(printable(issued, payer, TODAY), ITAU)


def content_stream(pdf: bytes) -> bytes:
    start = pdf.index(b"stream\n") + len(b"stream\n")
    end = pdf.index(b"\nendstream", start)
    return zlib.decompress(pdf[start:end])


def shown_strings(pdf: bytes) -> list[bytes]:
    """Every string the page shows, unescaped, in WinAnsi bytes."""
    found = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", content_stream(pdf))
    return [re.sub(rb"\\(.)", rb"\1", text) for text in found]


# --- the document -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bank", "printed"),
    # Codes and check digits as printed on published boletos of these banks.
    [
        ("001", "001-9"),
        ("341", "341-7"),
        ("237", "237-2"),
        ("104", "104-0"),
        ("033", "033-7"),
        ("756", "756-0"),
        ("748", "748-X"),
    ],
)
def test_bank_code_is_printed_with_its_check_digit(bank: str, printed: str) -> None:
    assert bank_code_with_dv(bank) == printed


_COMPANY = dict(name="Cobranças Exemplo Ltda", cnpj="11222333000181")


@pytest.mark.parametrize(
    ("fields", "sequence", "agencia_codigo", "carteira", "especie"),
    [
        (dict(bank_code="104", agencia="1825", conta="1", conta_dv="0", carteira="14",
              codigo_beneficiario="245274"), 42, "1825 / 245274-0", "RG", "DM"),
        (dict(bank_code="033", agencia="1234", conta="013000123", conta_dv="5", carteira="101",
              codigo_beneficiario="7654321"), 42, "1234 / 7654321", "101", "DM"),
        (dict(bank_code="756", agencia="4327", conta="417270", conta_dv="5", carteira="1",
              codigo_beneficiario="229385"), 42, "4327 / 229385", "1", "DM"),
        # The duplicata mercantil por indicação its remessa registers.
        (dict(bank_code="748", agencia="0165", conta="45981", conta_dv="3", carteira="1",
              posto="02", codigo_beneficiario="00623"), 25200042, "0165.02.00623", "1", "DMI"),
    ],
    ids=["caixa", "santander", "sicoob", "sicredi"],
)  # fmt: skip
def test_what_each_bank_prints_for_the_beneficiary(
    fields: dict[str, str], sequence: int, agencia_codigo: str, carteira: str, especie: str
) -> None:
    doc = document_for(BeneficiaryConfig(**{**_COMPANY, **fields}), sequence)
    assert (doc.agencia_codigo, doc.carteira, doc.especie_documento) == (
        agencia_codigo, carteira, especie
    )  # fmt: skip


def test_bb_and_itau_print_agencia_conta_and_the_carteira() -> None:
    bb, itau = overdue_document(), current_document()
    assert (bb.agencia_codigo, bb.carteira, bb.especie_documento) == ("1234 / 123456-X", "17", "DM")
    assert (itau.agencia_codigo, itau.carteira, itau.especie_documento) == (
        "0057 / 12345-7", "109", "DM"
    )  # fmt: skip


def test_overdue_document_carries_the_charges_and_explains_them() -> None:
    doc = overdue_document()
    assert doc.bank_code == "001"
    assert doc.bank_code_printed == "001-9"
    assert doc.bank_name == "Banco do Brasil"
    assert doc.beneficiary_name == "Cobranças Exemplo Ltda"
    assert doc.beneficiary_cnpj == "11.222.333/0001-81"
    assert doc.agencia_codigo == "1234 / 123456-X"
    assert doc.nosso_numero == "12345670000000042"
    # The document number the remessa sends (the boleto's sequence); the debt id is printed
    # as the last instruction.
    assert doc.numero_documento == "42"
    assert doc.payer_address == ADDRESS_LINE
    assert doc.carteira == "17"
    assert doc.especie == "R$"
    assert doc.issue_date == TODAY
    assert doc.due_date == date(2025, 12, 1)
    assert doc.original_due_date == date(2024, 10, 4)
    # 2% fine; 1% a month for 423 days: 123456 * 0.01 * 423 / 30 = 17407.3 -> 17407 centavos.
    assert (doc.principal_cents, doc.fine_cents, doc.interest_cents) == (123_456, 2_469, 17_407)
    assert doc.total_cents == 143_332
    assert int(doc.barcode[9:19]) == doc.total_cents
    assert doc.linha_digitavel == "00190.00009 01234.567004 00000.042176 2 12820000143332"
    assert doc.instructions == (
        "Débito vencido em 04/10/2024, reemitido com vencimento em 01/12/2025.",
        "Valor original R$ 1.234,56 + multa R$ 24,69 + juros de mora R$ 174,07 (423 dias)"
        " = R$ 1.433,32.",
        f"Referência do débito: {DEBT_ID}",
    )


def test_current_debt_keeps_its_date_and_has_no_instructions() -> None:
    doc = current_document()
    assert doc.due_date == doc.original_due_date == date(2026, 1, 15)
    assert (doc.fine_cents, doc.interest_cents, doc.total_cents) == (0, 0, 150_000)
    assert doc.instructions == (f"Referência do débito: {DEBT_ID}",)
    assert doc.payer_address == ""
    assert doc.bank_code_printed == "341-7"
    assert doc.nosso_numero.startswith("109/12345678-")


@pytest.mark.parametrize(
    ("government_id", "kind", "printed"),
    [
        ("52998224725", PayerIdKind.CPF, "CPF 529.982.247-25"),
        ("11222333000181", PayerIdKind.CNPJ, "CNPJ 11.222.333/0001-81"),
        ("1234", PayerIdKind.OTHER, "Identificação 1234"),
        # The wire's UNSPECIFIED and a kind that contradicts the value print the value as given.
        ("1234", 0, "Identificação 1234"),
        ("1234", PayerIdKind.CPF, "Identificação 1234"),
    ],
)
def test_payer_id_is_formatted_by_its_kind(government_id: str, kind: int, printed: str) -> None:
    doc = overdue_document(government_id=government_id, government_id_kind=kind)
    assert doc.payer_id == printed


def test_extra_instructions_follow_the_charges() -> None:
    issued = issue_boleto(BB, 1, 1000, date(2024, 1, 2), TODAY, POLICY)
    doc = BoletoDocument.of(
        printable(issued, Payer(" Ana ", "1000", PayerIdKind.OTHER, ""), TODAY),
        BB,
        extra_instructions=("Em caso de dúvida, fale com o beneficiário.",),
    )
    assert doc.payer_name == "Ana"
    assert len(doc.instructions) == 4
    assert doc.instructions[-2] == "Em caso de dúvida, fale com o beneficiário."


@pytest.mark.parametrize(
    "change",
    [
        {"total_cents": 143_333},  # not principal + fine + interest
        {"fine_cents": 2_470},
        {"principal_cents": 123_456.0},  # money is never a float
        {"interest_cents": True},
        {"linha_digitavel": "00190.00009 01234.567004 00000.042176 2 12820000143333"},
        {"instructions": ("a",) * (MAX_INSTRUCTION_LINES + 1)},
        {"instructions": ["a list"]},
    ],
)
def test_inconsistent_documents_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        replace(overdue_document(), **change)


def test_barcode_amount_must_match_the_total() -> None:
    doc = overdue_document()
    other = current_document()
    with pytest.raises(ValueError):
        replace(doc, barcode=other.barcode, linha_digitavel=other.linha_digitavel)


# --- text --------------------------------------------------------------------------------------


CONTROL_POINTS = set(code_points(CONTROLS))
MARK_POINTS = set(code_points(DIRECTION_MARKS))


def test_text_is_winansi_with_unprintable_characters_replaced() -> None:
    assert encode("Conceição") == "Conceição".encode("cp1252")
    assert encode("Jose\u0301") == "José".encode("cp1252")  # decomposed accent composed first
    assert encode("Zoë 王") == b"Zo\xeb ?"
    assert encode("a\tb\nc") == b"a b c"
    assert encode("Zoë\u202ex") == b"Zo\xebx"
    assert escape(b"a(b)c\\") == b"a\\(b\\)c\\\\"


@given(st.binary(max_size=300), st.sampled_from(list(Font)))
def test_width_is_the_sum_of_each_bytes_advance(raw: bytes, font: Font) -> None:
    assert width(raw, font, 10) == sum(font.widths[b] for b in raw) * 10 / 1000


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(), st.sampled_from(sorted(map(chr, CONTROL_POINTS | MARK_POINTS)))
        ),
        max_size=80,
    )
)
def test_any_text_prints_as_its_composed_characters_without_controls_or_marks(
    text: str,
) -> None:
    composed = unicodedata.normalize("NFC", text)
    expected = "".join(
        " " if ord(c) in CONTROL_POINTS else "" if ord(c) in MARK_POINTS else c for c in composed
    )
    assert encode(text) == expected.encode("cp1252", "replace")


def test_fit_cuts_with_an_ellipsis_within_the_width() -> None:
    raw = encode("Maria da Conceição Albuquerque de Oliveira")
    full = width(raw, Font.REGULAR, 10)
    assert fit(raw, Font.REGULAR, 10, full) == (raw, full)
    shown, used = fit(raw, Font.REGULAR, 10, full / 2)
    assert shown.endswith(b"\x85") and used <= full / 2
    assert raw.startswith(shown[:-1])


# --- the PDF -----------------------------------------------------------------------------------


def test_pdf_structure_is_consistent() -> None:
    pdf = render_pdf(overdue_document())
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref_at = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[xref_at:].startswith(b"xref\n0 5\n")
    entries = pdf[xref_at + len(b"xref\n0 5\n") :].split(b"trailer")[0]
    assert len(entries) == 5 * 20
    for number, entry in enumerate(entries[20:].splitlines(), start=1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))  # type: ignore[union-attr]
    start = pdf.index(b"stream\n") + len(b"stream\n")
    assert pdf[start + length :].startswith(b"\nendstream")
    assert b"/Root 1 0 R" in pdf


def test_page_shows_every_field_with_pt_br_amounts() -> None:
    shown = shown_strings(render_pdf(overdue_document()))
    for text in (
        "Banco do Brasil",
        "001-9",
        "00190.00009 01234.567004 00000.042176 2 12820000143332",
        "Cobranças Exemplo Ltda",
        "11.222.333/0001-81",
        "CNPJ 11.222.333/0001-81",
        "1234 / 123456-X",
        "Miss Lisa Wright MD",
        "CPF 529.982.247-25",
        "12345670000000042",
        "42",
        f"Referência do débito: {DEBT_ID}",
        ADDRESS_LINE,
        "17",
        "R$",
        "01/12/2025",
        "26/11/2025",
        "1.234,56",  # principal
        "198,76",  # fine + interest
        "1.433,32",  # total
        "Recibo do Pagador",
        "Local de Pagamento",
        "Instruções (texto de responsabilidade do beneficiário)",
        "Débito vencido em 04/10/2024, reemitido com vencimento em 01/12/2025.",
    ):
        assert text.encode("cp1252") in shown, text
    # The values the bank and the payer rely on appear on both parts of the page.
    for text in (
        "01/12/2025",
        "1.433,32",
        "00190.00009 01234.567004 00000.042176 2 12820000143332",
    ):
        assert shown.count(text.encode()) == 2, text


def test_special_characters_in_names_are_escaped_and_still_shown() -> None:
    pdf = render_pdf(overdue_document(name="Ana (Filial) \\ Sul"))
    assert b"Ana \\(Filial\\) \\\\ Sul" in content_stream(pdf)
    assert b"Ana (Filial) \\ Sul" in shown_strings(pdf)


def test_long_names_are_cut_but_the_beneficiary_cnpj_is_not() -> None:
    long_name = "Maria da Conceição Albuquerque de Oliveira e Souza Bragança " * 3
    shown = shown_strings(render_pdf(overdue_document(name=long_name)))
    cut = [text for text in shown if text.startswith(b"Maria da Concei")]
    assert cut and all(text.endswith(b"\x85") for text in cut)
    assert b"CNPJ 11.222.333/0001-81" in shown


def test_same_document_same_bytes() -> None:
    assert render_pdf(overdue_document()) == render_pdf(overdue_document())


def test_different_documents_differ_in_content_and_identifier() -> None:
    first, second = render_pdf(overdue_document()), render_pdf(current_document())
    ident = re.compile(rb"/ID \[<([0-9a-f]{32})>")
    assert ident.search(first).group(1) != ident.search(second).group(1)  # type: ignore[union-attr]


_RENDER_IN_CHILD = """
import hashlib, sys
from tests.unit.boleto.test_documents import overdue_document
from boleto_service.documents import render_pdf
sys.stdout.write(hashlib.sha256(render_pdf(overdue_document())).hexdigest())
"""


@pytest.mark.parametrize("hash_seed", ["0", "12345"])
def test_another_process_renders_the_same_bytes(hash_seed: str) -> None:
    here = hashlib.sha256(render_pdf(overdue_document())).hexdigest()
    root = Path(__file__).resolve().parents[3]
    child = subprocess.run(
        [sys.executable, "-c", _RENDER_IN_CHILD],
        cwd=root,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert child.stdout == here


def test_files_stay_small() -> None:
    long_text = "Maria da Conceição Albuquerque de Oliveira e Souza Bragança " * 3
    sizes = [
        len(render_pdf(doc))
        for doc in (
            overdue_document(),
            current_document(),
            overdue_document(name=long_text, government_id_kind=PayerIdKind.OTHER),
        )
    ]
    # About 2.6 KB each: 1.1 million of them take under 3 GB.
    assert max(sizes) < 3_000, sizes


def test_poppler_renders_the_page_without_complaint(tmp_path: Path) -> None:
    pdftoppm = require_tool("pdftoppm")
    for index, doc in enumerate((overdue_document(), current_document())):
        path = tmp_path / f"boleto{index}.pdf"
        path.write_bytes(render_pdf(doc))
        result = subprocess.run(
            [pdftoppm, "-r", "50", "-png", "-singlefile", str(path), str(tmp_path / f"p{index}")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0
        assert result.stderr == ""
        assert (tmp_path / f"p{index}.png").stat().st_size > 0


# --- barcode -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digits",
    [
        "00191132700000010000000001234567000000000717",
        "34196132700099999991091234567800057123457000",
        "0123456789" * 4 + "9876",
    ],
)
def test_interleaved_2_of_5_matches_reportlab(digits: str) -> None:
    from reportlab.graphics.barcode.common import I2of5

    # reportlab adds a check digit and bearer bars unless told not to.
    reference = I2of5(digits, checksum=0, bearers=0, ratio=3)
    reference.validate()
    reference.encode()
    reference.decompose()
    mine = "".join(
        ("b" if index % 2 == 0 else "s").upper() if element == "W" else "bs"[index % 2]
        for index, element in enumerate(elements(digits))
    )
    assert mine == reference.decomposed


def test_symbol_geometry_follows_febraban() -> None:
    digits = "00191132700000010000000001234567000000000717"
    assert total_modules(44) == 405
    runs = bars(digits)
    assert len(runs) == 2 + 5 * 22 + 2  # start, five bars per pair, stop
    assert runs[-1][0] + runs[-1][1] == 405
    content = content_stream(render_pdf(overdue_document()))
    matrix = re.search(rb"q 0 g ([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm", content)
    assert matrix is not None
    module, height = float(matrix.group(1)), float(matrix.group(2))
    assert module * 405 == pytest.approx(pt(BARCODE_LENGTH), abs=0.01)
    assert height == pytest.approx(pt(BARCODE_HEIGHT), abs=0.05)


# A static BR Code as the Banco Central's manual shows it.
PIX_PAYLOAD = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def test_every_slot_of_the_layout_has_a_field_and_every_field_a_slot() -> None:
    with_pix = dataclasses.replace(overdue_document(), pix_payload=PIX_PAYLOAD)
    names = {name for name, _ in field_texts(with_pix)}
    assert names == set(boleto_layout().slots)
    # Without a Pix code the QR's captions print nothing.
    assert names - {name for name, _ in field_texts(overdue_document())} == {
        "pix_caption",
        "pix_hint",
    }


def test_nothing_is_drawn_in_the_barcode_quiet_zones() -> None:
    page = boleto_layout()
    x, y = page.barcode_origin
    left, right = x - pt(QUIET_ZONE), x + pt(BARCODE_LENGTH + QUIET_ZONE)
    bottom, top = y, y + pt(BARCODE_HEIGHT)
    assert left >= 0
    for label in page.labels:
        width_pt = width(encode(label.text), label.font, label.size)
        start = label.x - (width_pt if label.align == "right" else 0)
        inside_band = bottom - label.size < label.y < top
        assert not (inside_band and start < right and start + width_pt > left), label
    for slots in page.slots.values():
        for slot in slots:
            start = slot.x - (slot.max_width if slot.align == "right" else 0)
            inside_band = bottom - slot.size < slot.y < top
            assert not (inside_band and start < right and start + slot.max_width > left), slot
    qr_x, _ = page.qr_origin
    assert qr_x >= right
    for rule in page.rules:
        assert min(rule.y1, rule.y2) > top or max(rule.y1, rule.y2) < bottom, rule
    assert pt(PAGE_HEIGHT_MM) > top
