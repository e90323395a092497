"""The Pix QR code of a "boleto híbrido", drawn as filled rectangles like the barcode.

Drawing the dark modules as runs of rectangles under one scaling matrix keeps every edge on
the module grid and the stream small, without a second drawing library or an image per
boleto.
"""

from __future__ import annotations

from boletos.platform.qr import qr_symbol

from .content import num

QUIET_MODULES = 4


def qr_operators(payload: str, x: float, y: float, size: float) -> bytes:
    """Operators painting the symbol, quiet zone included, in a `size` square whose lower left
    corner is at (x, y), in points."""
    symbol = qr_symbol(payload)
    count = symbol.size
    module = size / (count + 2 * QUIET_MODULES)
    out = [b"q 0 g %s 0 0 %s %s %s cm\n" % (num(module), num(module), num(x), num(y))]
    for row_index, runs in enumerate(symbol.runs):
        # PDF's y grows upwards; the symbol's rows go down from its top.
        bottom = count - 1 - row_index + QUIET_MODULES
        for start, length in runs:
            out.append(b"%d %d %d 1 re\n" % (start + QUIET_MODULES, bottom, length))
    out.append(b"f\nQ\n")
    return b"".join(out)
