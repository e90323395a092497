"""Page geometry of the boleto: A4, 'Recibo do Pagador' on top, 'Ficha de Compensação' below.

Written in millimetres from the page's top-left corner, the way boleto layouts are specified,
and converted to PDF points (origin bottom-left) by the `Layout` accessors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .text import Font

PT_PER_MM = 72 / 25.4
PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0

LEFT = 10.0
RIGHT = 200.0
RIGHT_COLUMN = 152.0  # the column of dates and amounts on the right of both parts
HEADER_HEIGHT = 9.0
ROW = 8.5
LABEL_SIZE = 5.5
VALUE_SIZE = 8.5
LABEL_DROP = 2.3  # label baseline below the cell's top edge
VALUE_RISE = 1.8  # value baseline above the cell's bottom edge
PAD = 1.0
INSTRUCTION_LEADING = 4.0

# FEBRABAN: 103 mm x 13 mm, with at least 5 mm of blank space on each side.
BARCODE_LENGTH = 103.0
BARCODE_HEIGHT = 13.0
QR_SIZE_MM = 30.0  # quiet zone included
QUIET_ZONE = 5.0

THIN = 0.5  # line widths in points
THICK = 1.5


def pt(mm: float) -> float:
    return mm * PT_PER_MM


@dataclass(frozen=True)
class Slot:
    """Where one variable text goes: baseline point, alignment and the width it may take."""

    x: float
    y: float
    font: Font
    size: float
    align: str
    max_width: float


@dataclass(frozen=True)
class Label:
    text: str
    x: float
    y: float
    font: Font
    size: float
    align: str = "left"


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = THIN
    dashed: bool = False


@dataclass(frozen=True)
class Shade:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Cell:
    """One labelled box of a row; `field` names the document text printed in it."""

    x0: float
    x1: float
    label: str
    field: str | None = None
    align: str = "left"
    font: Font = Font.REGULAR
    size: float = VALUE_SIZE
    shaded: bool = False


@dataclass
class Layout:
    """Static drawing plus the slots for variable text, all in millimetres from the top."""

    labels: list[Label] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    shades: list[Shade] = field(default_factory=list)
    slots: dict[str, list[Slot]] = field(default_factory=dict)
    instruction_areas: list[list[Slot]] = field(default_factory=list)
    barcode_origin: tuple[float, float] = (0.0, 0.0)  # lower-left corner, in points
    qr_origin: tuple[float, float] = (0.0, 0.0)  # the Pix QR code's, in points

    def slot(
        self, name: str, x: float, top: float, font: Font, size: float, align: str, max_width: float
    ) -> None:
        self.slots.setdefault(name, []).append(_slot(x, top, font, size, align, max_width))

    def label(
        self, text: str, x: float, top: float, font: Font, size: float, align: str = "left"
    ) -> None:
        self.labels.append(Label(text, pt(x), pt(PAGE_HEIGHT_MM - top), font, size, align))

    def rule(
        self,
        x1: float,
        top1: float,
        x2: float,
        top2: float,
        width: float = THIN,
        dashed: bool = False,
    ) -> None:
        self.rules.append(
            Rule(
                pt(x1), pt(PAGE_HEIGHT_MM - top1), pt(x2), pt(PAGE_HEIGHT_MM - top2), width, dashed
            )
        )

    def shade(self, x0: float, top: float, x1: float, bottom: float) -> None:
        self.shades.append(
            Shade(pt(x0), pt(PAGE_HEIGHT_MM - bottom), pt(x1 - x0), pt(bottom - top))
        )

    def header(self, top: float) -> None:
        """Bank name | bank code with DV | a wide slot on the right, over a thick rule."""
        bottom = top + HEADER_HEIGHT
        baseline = bottom - 2.2
        self.slot("bank_name", LEFT + PAD, baseline, Font.BOLD, 10, "left", 38)
        self.rule(50, top + 1.5, 50, bottom, THICK)
        self.rule(68, top + 1.5, 68, bottom, THICK)
        self.slot("bank_code", 59, baseline, Font.BOLD, 14, "center", 17)
        self.rule(LEFT, bottom, RIGHT, bottom, THICK)

    def row(self, top: float, height: float, cells: list[Cell], top_rule: bool = True) -> None:
        """A row of labelled cells: a rule on top, separators between cells, values at the foot.

        The row under a header goes without its top rule: the header's thick one is there.
        """
        if top_rule:
            self.rule(cells[0].x0, top, RIGHT, top)
        for cell in cells:
            if cell.shaded:
                self.shade(cell.x0, top, cell.x1, top + height)
            self.rule(cell.x0, top, cell.x0, top + height)
            self.label(cell.label, cell.x0 + PAD, top + LABEL_DROP, Font.REGULAR, LABEL_SIZE)
            if cell.field is not None:
                x = cell.x1 - PAD if cell.align == "right" else cell.x0 + PAD
                self.slot(
                    cell.field,
                    x,
                    top + height - VALUE_RISE,
                    cell.font,
                    cell.size,
                    cell.align,
                    cell.x1 - cell.x0 - 2 * PAD,
                )
        self.rule(RIGHT, top, RIGHT, top + height)

    def instructions(self, x0: float, x1: float, top: float, height: float, label: str) -> None:
        """A tall cell for instruction lines beside a stack of rows that closes it on the right."""
        self.rule(x0, top, x1, top)
        self.rule(x0, top, x0, top + height)
        self.label(label, x0 + PAD, top + LABEL_DROP, Font.REGULAR, LABEL_SIZE)
        lines = int((height - 3) // INSTRUCTION_LEADING)
        self.instruction_areas.append(
            [
                _slot(
                    x0 + PAD,
                    top + 6 + line * INSTRUCTION_LEADING,
                    Font.REGULAR,
                    8,
                    "left",
                    x1 - x0 - 2 * PAD,
                )
                for line in range(lines)
            ]
        )


def _slot(x: float, top: float, font: Font, size: float, align: str, max_width: float) -> Slot:
    return Slot(pt(x), pt(PAGE_HEIGHT_MM - top), font, size, align, pt(max_width))


def _right(label: str, name: str, bold: bool = False, shaded: bool = False) -> Cell:
    font = Font.BOLD if bold else Font.REGULAR
    return Cell(RIGHT_COLUMN, RIGHT, label, name, "right", font, 9 if bold else VALUE_SIZE, shaded)


def _amount_stack(page: Layout, top: float, entries: list[tuple[str, str | None]]) -> float:
    """Right-column rows beside an instructions area, the total in bold. Returns the bottom."""
    for label, name in entries:
        if name is None:
            cell = Cell(RIGHT_COLUMN, RIGHT, label)
        else:
            cell = _right(label, name, bold=name == "total")
        page.row(top, ROW, [cell])
        top += ROW
    return top


def _receipt(page: Layout, top: float) -> float:
    """'Recibo do Pagador': what the payer keeps. Returns the bottom edge."""
    page.label("Recibo do Pagador", RIGHT, top - 1.2, Font.BOLD, 8, "right")
    page.header(top)
    page.slot(
        "linha_digitavel",
        RIGHT - PAD,
        top + HEADER_HEIGHT - 2.2,
        Font.BOLD,
        10,
        "right",
        RIGHT - 68 - 2 * PAD,
    )
    y = top + HEADER_HEIGHT
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, 112, "Beneficiário", "beneficiary_name"),
            Cell(112, RIGHT_COLUMN, "CNPJ do Beneficiário", "beneficiary_cnpj"),
            _right("Vencimento", "due_date", bold=True, shaded=True),
        ],
        top_rule=False,
    )
    y += ROW
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, 105, "Pagador", "payer_name"),
            Cell(105, RIGHT_COLUMN, "Identificação do Pagador", "payer_id"),
            _right("Agência / Código do Beneficiário", "agencia_codigo"),
        ],
    )
    y += ROW
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, 38, "Data do Documento", "issue_date"),
            Cell(38, 112, "Número do Documento", "numero_documento"),
            Cell(112, RIGHT_COLUMN, "Nosso Número", "nosso_numero"),
            _right("(=) Valor do Documento", "principal"),
        ],
    )
    y += ROW
    page.instructions(LEFT, RIGHT_COLUMN, y, 3 * ROW, "Demonstrativo")
    y = _amount_stack(
        page,
        y,
        [
            ("(-) Desconto / Abatimento", None),
            ("(+) Mora / Multa", "surcharge"),
            ("(=) Valor Cobrado", "total"),
        ],
    )
    page.rule(LEFT, y, RIGHT, y)
    page.label("Autenticação Mecânica", RIGHT, y + 3, Font.REGULAR, LABEL_SIZE, "right")
    return y


def _cut_line(page: Layout, top: float) -> None:
    page.rule(LEFT, top, RIGHT, top, THIN, dashed=True)
    page.label("Corte na linha pontilhada", RIGHT, top - 1.2, Font.REGULAR, LABEL_SIZE, "right")


def _compensation(page: Layout, top: float) -> None:
    """'Ficha de Compensação': what the bank keeps, with the barcode."""
    page.header(top)
    page.slot(
        "linha_digitavel",
        RIGHT - PAD,
        top + HEADER_HEIGHT - 2.2,
        Font.BOLD,
        11.5,
        "right",
        RIGHT - 68 - 2 * PAD,
    )
    y = top + HEADER_HEIGHT
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, RIGHT_COLUMN, "Local de Pagamento", "payment_place"),
            _right("Vencimento", "due_date", bold=True, shaded=True),
        ],
        top_rule=False,
    )
    y += ROW
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, RIGHT_COLUMN, "Beneficiário"),
            _right("Agência / Código do Beneficiário", "agencia_codigo"),
        ],
    )
    # Name and CNPJ in separate slots, so a long name is cut before the CNPJ ever is.
    baseline = y + ROW - VALUE_RISE
    page.slot("beneficiary_name", LEFT + PAD, baseline, Font.REGULAR, VALUE_SIZE, "left", 95)
    page.slot(
        "beneficiary_cnpj_labelled",
        RIGHT_COLUMN - PAD,
        baseline,
        Font.REGULAR,
        VALUE_SIZE,
        "right",
        44,
    )
    y += ROW
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, 38, "Data do Documento", "issue_date"),
            Cell(38, 102, "Número do Documento", "numero_documento"),
            Cell(102, 119, "Espécie Doc.", "especie_documento"),
            Cell(119, 130, "Aceite", "aceite"),
            Cell(130, RIGHT_COLUMN, "Data Processamento", "issue_date"),
            _right("Nosso Número", "nosso_numero"),
        ],
    )
    y += ROW
    page.row(
        y,
        ROW,
        [
            Cell(LEFT, 38, "Uso do Banco"),
            Cell(38, 60, "Carteira", "carteira"),
            Cell(60, 80, "Espécie", "especie"),
            Cell(80, 115, "Quantidade"),
            Cell(115, RIGHT_COLUMN, "Valor"),
            _right("(=) Valor do Documento", "principal", shaded=True),
        ],
    )
    y += ROW
    page.instructions(
        LEFT, RIGHT_COLUMN, y, 5 * ROW, "Instruções (texto de responsabilidade do beneficiário)"
    )
    y = _amount_stack(
        page,
        y,
        [
            ("(-) Desconto / Abatimento", None),
            ("(-) Outras Deduções", None),
            ("(+) Mora / Multa", "surcharge"),
            ("(+) Outros Acréscimos", None),
            ("(=) Valor Cobrado", "total"),
        ],
    )
    payer_height = 14.0
    page.row(y, payer_height, [Cell(LEFT, RIGHT, "Pagador")])
    page.slot("payer_name", LEFT + PAD, y + 6, Font.REGULAR, VALUE_SIZE, "left", 118)
    page.slot("payer_id", 132, y + 6, Font.REGULAR, VALUE_SIZE, "left", RIGHT - 132 - PAD)
    page.slot("payer_address", LEFT + PAD, y + 9.6, Font.REGULAR, 7, "left", RIGHT - LEFT - 2 * PAD)
    page.label("Sacador / Avalista", LEFT + PAD, y + payer_height - 1.6, Font.REGULAR, LABEL_SIZE)
    y += payer_height
    page.rule(LEFT, y, RIGHT, y, THICK)
    page.label(
        "Autenticação Mecânica - Ficha de Compensação",
        RIGHT,
        y + 3,
        Font.REGULAR,
        LABEL_SIZE,
        "right",
    )
    barcode_top = y + 3
    page.barcode_origin = (pt(LEFT), pt(PAGE_HEIGHT_MM - barcode_top - BARCODE_HEIGHT))
    # Right of the barcode, clear of its quiet zone: the Pix QR code when there is one.
    qr_top = y + 5
    page.qr_origin = (pt(RIGHT - QR_SIZE_MM), pt(PAGE_HEIGHT_MM - qr_top - QR_SIZE_MM))
    page.slot("pix_caption", RIGHT - QR_SIZE_MM - PAD, qr_top + 4, Font.BOLD, 7, "right", 30)
    page.slot("pix_hint", RIGHT - QR_SIZE_MM - PAD, qr_top + 7.5, Font.REGULAR, 6, "right", 30)


def boleto_layout() -> Layout:
    page = Layout()
    receipt_bottom = _receipt(page, 12.0)
    _cut_line(page, receipt_bottom + 12)
    _compensation(page, receipt_bottom + 20)
    return page


PAGE_WIDTH = pt(PAGE_WIDTH_MM)
PAGE_HEIGHT = pt(PAGE_HEIGHT_MM)
BARCODE_SIZE = (pt(BARCODE_LENGTH), pt(BARCODE_HEIGHT))
QR_SIZE = pt(QR_SIZE_MM)
