"""Rendering a BoletoDocument to PDF bytes: a cached static page plus the document's text.

The boxes, labels and fonts are laid out, written and compressed once per renderer; per
document only the values and the barcode are written, after the static operators in the
page's content stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from ..domain.money import format_reais
from .barcode import barcode_operators
from .content import num
from .layout import BARCODE_SIZE, PAGE_HEIGHT, PAGE_WIDTH, QR_SIZE, Layout, Slot, boleto_layout
from .model import BoletoDocument, format_date
from .pdffile import PdfFileTemplate
from .qrcode import qr_operators
from .template import static_operators
from .text import encode, escape, fit


class _CompiledSlot:
    """A slot with its operators precomputed as far as the value allows.

    It remembers the last text it wrote: beneficiary, bank and dates repeat from one boleto
    to the next, and a hit skips encoding, measuring and formatting.
    """

    __slots__ = ("font", "size", "max_width", "head", "tail", "x", "shift", "_last")

    def __init__(self, slot: Slot) -> None:
        self.font = slot.font
        self.size = slot.size
        self.max_width = slot.max_width
        self.x = slot.x
        # How much of the text's width moves the start left of the anchor.
        self.shift = {"left": 0.0, "center": 0.5, "right": 1.0}[slot.align]
        font_and_matrix = b"/%s %s Tf 1 0 0 1 " % (slot.font.resource.encode(), num(slot.size))
        if self.shift:
            self.head = font_and_matrix
            self.tail = b" %s Tm (" % num(slot.y)
        else:
            self.head = font_and_matrix + b"%s %s Tm (" % (num(slot.x), num(slot.y))
            self.tail = b""
        self._last: tuple[str, bytes] = ("", b"")

    def operators(self, text: str) -> bytes:
        """Operators showing `text` in this slot, cut with an ellipsis if it is too wide."""
        last = self._last
        if last[0] == text:
            return last[1]
        shown, used = fit(encode(text), self.font, self.size, self.max_width)
        if self.shift:
            start = b"%s%.1f%s" % (self.head, self.x - used * self.shift, self.tail)
        else:
            start = self.head
        operators = start + escape(shown) + b") Tj\n"
        self._last = (text, operators)
        return operators


def field_texts(doc: BoletoDocument) -> Iterator[tuple[str, str]]:
    """(slot name, printed text) for every field the layout shows; empty ones print nothing."""
    surcharge = doc.fine_cents + doc.interest_cents
    yield "bank_name", doc.bank_name
    yield "bank_code", doc.bank_code_printed
    yield "linha_digitavel", doc.linha_digitavel
    yield "beneficiary_name", doc.beneficiary_name
    yield "beneficiary_cnpj", doc.beneficiary_cnpj
    yield "beneficiary_cnpj_labelled", f"CNPJ {doc.beneficiary_cnpj}"
    yield "agencia_codigo", doc.agencia_codigo
    yield "payer_name", doc.payer_name
    yield "payer_id", doc.payer_id
    yield "payer_address", doc.payer_address
    yield "due_date", format_date(doc.due_date)
    yield "issue_date", format_date(doc.issue_date)
    yield "numero_documento", doc.numero_documento
    yield "nosso_numero", doc.nosso_numero
    yield "carteira", doc.carteira
    yield "especie", doc.especie
    yield "especie_documento", doc.especie_documento
    yield "aceite", doc.aceite
    yield "payment_place", doc.payment_place
    yield "principal", format_reais(doc.principal_cents)
    yield "surcharge", format_reais(surcharge) if surcharge else ""
    yield "total", format_reais(doc.total_cents)
    if doc.pix_payload:
        yield "pix_caption", "Pague com Pix"
        yield "pix_hint", "aponte a câmera do celular"


class BoletoRenderer:
    """Renders boletos on one layout; build once and reuse, it caches the static page.

    Safe to share between threads: its only mutable state is each slot's last output,
    replaced whole.
    """

    def __init__(self, page: Layout | None = None) -> None:
        page = page or boleto_layout()
        self._slots = {
            name: tuple(_CompiledSlot(slot) for slot in slots) for name, slots in page.slots.items()
        }
        self._instruction_areas = tuple(
            tuple(_CompiledSlot(slot) for slot in area) for area in page.instruction_areas
        )
        self._barcode_origin = page.barcode_origin
        self._qr_origin = page.qr_origin
        self._file = PdfFileTemplate(PAGE_WIDTH, PAGE_HEIGHT, static_operators(page))

    def content(self, doc: BoletoDocument) -> bytes:
        """The variable content stream: the document's values and its barcode."""
        out = [b"BT\n"]
        slots = self._slots
        for name, text in field_texts(doc):
            if text and name in slots:
                for slot in slots[name]:
                    out.append(slot.operators(text))
        for area in self._instruction_areas:
            for line, slot in zip(doc.instructions, area, strict=False):
                out.append(slot.operators(line))
        out.append(b"ET\n")
        x, y = self._barcode_origin
        out.append(barcode_operators(doc.barcode, x, y, *BARCODE_SIZE))
        if doc.pix_payload:
            out.append(qr_operators(doc.pix_payload, *self._qr_origin, QR_SIZE))
        return b"".join(out)

    def render(self, doc: BoletoDocument) -> bytes:
        return self._file.build(self.content(doc))


@cache
def default_renderer() -> BoletoRenderer:
    return BoletoRenderer()


def render_pdf(doc: BoletoDocument) -> bytes:
    """One A4 page with the boleto; the same document always gives the same bytes."""
    return default_renderer().render(doc)
