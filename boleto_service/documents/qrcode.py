"""The Pix QR code of a "boleto híbrido", drawn as filled rectangles like the barcode.

reportlab computes the symbol (its qrencoder); drawing the dark modules as runs of rectangles
under one scaling matrix keeps every edge on the module grid and the stream small, without a
second drawing library or an image per boleto.
"""

from __future__ import annotations

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

from .content import num

# A BR Code of about 150 characters fits version 7 at level M; phones read it at 25 mm.
ERROR_CORRECTION = QRErrorCorrectLevel.M
QUIET_MODULES = 4


def modules(payload: str) -> list[list[bool]]:
    """The symbol's dark modules, row by row from the top."""
    code = QRCode(None, ERROR_CORRECTION)
    code.addData(payload)
    code.make()
    count = code.getModuleCount()
    return [[bool(code.isDark(row, col)) for col in range(count)] for row in range(count)]


def qr_operators(payload: str, x: float, y: float, size: float) -> bytes:
    """Operators painting the symbol, quiet zone included, in a `size` square whose lower left
    corner is at (x, y), in points."""
    grid = modules(payload)
    count = len(grid)
    module = size / (count + 2 * QUIET_MODULES)
    out = [b"q 0 g %s 0 0 %s %s %s cm\n" % (num(module), num(module), num(x), num(y))]
    for row_index, row in enumerate(grid):
        # PDF's y grows upwards; the symbol's rows go down from its top.
        bottom = count - 1 - row_index + QUIET_MODULES
        col = 0
        while col < count:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < count and row[col]:
                col += 1
            out.append(b"%d %d %d 1 re\n" % (start + QUIET_MODULES, bottom, col - start))
    out.append(b"f\nQ\n")
    return b"".join(out)
