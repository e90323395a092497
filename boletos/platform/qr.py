"""QR codes at error correction level M, as the boleto's PDF and the debtor's page draw them:
each row's runs of dark modules, which both paint as rectangles.

Zint, a C library, encodes the symbol, in under a millisecond where the pure-Python encoders
(reportlab's, segno, qrcodegen) took 12 to 27 ms for a Pix BR Code: more than a hundred
times the rest of a boleto's PDF. It also splits the text into numeric, alphanumeric and
byte segments, so a BR Code fits a smaller symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import zint

# Zint's option_1 for QR codes: 1 L, 2 M, 3 Q, 4 H.
_LEVEL_M = 2


@dataclass(frozen=True, slots=True)
class QrSymbol:
    size: int  # modules a side, without the quiet zone
    # Each row's dark runs as (first column, length), rows from the top.
    runs: list[list[tuple[int, int]]]


def qr_symbol(text: str) -> QrSymbol:
    """The symbol of `text`'s UTF-8 bytes; ValueError when it does not fit a QR code."""
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.option_1 = _LEVEL_M
    try:
        # Bytes: the symbol carries exactly these, whatever zint's input mode.
        symbol.encode(text.encode())
    except RuntimeError as error:
        # Zint's message counts codewords; it never quotes the text (a Pix key, say).
        raise ValueError(f"no QR code for {len(text)} characters: {error}") from None
    data = symbol.encoded_data
    _, stride = data.shape or (0, 0)
    flat = data.tobytes()
    size = symbol.width
    width = (size + 7) // 8
    runs = []
    for row in range(symbol.rows):
        # Zint keeps a row's modules as bits, the first module in the lowest bit of a byte.
        line = int.from_bytes(flat[row * stride : row * stride + width], "little")
        bits = f"{line:0{width * 8}b}"[::-1][:size]
        row_runs = []
        column = 0
        # Between two light modules, a run of dark ones (or nothing).
        for dark in bits.split("0"):
            if dark:
                row_runs.append((column, len(dark)))
                column += len(dark)
            column += 1
        runs.append(row_runs)
    return QrSymbol(size, runs)
