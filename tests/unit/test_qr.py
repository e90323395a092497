"""The QR codes of the PDF and the debtor's page: level M, the size a version has, runs that
tile each row's dark modules, a clear error for a text too long, and threads at once. That a
scanner reads one back is tests/integration/pipeline/test_pix.py's, through the printed PDF."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from boletos.platform.qr import QrSymbol, qr_symbol

BR_CODE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e89b-12d3-a456-42661417400052040000530398654071234"
    ".565802BR5923Cobrancas Sao Joao Ltda6009Sao Paulo62240520BOL1234567000000004263044723"
)
# ISO/IEC 18004 table C.1: the format information is XORed with this before it is placed.
FORMAT_MASK = 0b101010000010010


def _dark(symbol: QrSymbol) -> list[list[bool]]:
    grid = [[False] * symbol.size for _ in range(symbol.size)]
    for row, runs in enumerate(symbol.runs):
        for start, length in runs:
            for column in range(start, start + length):
                assert not grid[row][column], "runs overlap"
                grid[row][column] = True
    return grid


def _format_information(grid: list[list[bool]]) -> int:
    """The 15 bits beside the top left finder pattern, unmasked: row 8 left to right, then
    column 8 upwards, skipping the timing pattern."""
    bits = [grid[8][c] for c in (0, 1, 2, 3, 4, 5, 7, 8)]
    bits += [grid[r][8] for r in (7, 5, 4, 3, 2, 1, 0)]
    return int("".join("1" if b else "0" for b in bits), 2) ^ FORMAT_MASK


@pytest.mark.parametrize("text", ["1", "https://boletos.example/d/ab12", BR_CODE, "é" * 300])
def test_a_symbol_is_a_whole_qr_code_at_level_m(text: str) -> None:
    symbol = qr_symbol(text)
    assert len(symbol.runs) == symbol.size
    assert (symbol.size - 17) % 4 == 0 and 21 <= symbol.size <= 177  # versions 1 to 40
    grid = _dark(symbol)
    # The finder pattern's outer ring, dark, at the top left.
    assert all(grid[0][:7]) and all(grid[6][:7]) and not grid[0][7]
    information = _format_information(grid)
    assert information >> 13 == 0b00  # the error correction level: M
    # The same bits again, split between the other two corners.
    copy = [grid[symbol.size - 1 - r][8] for r in range(7)]
    copy += [grid[8][symbol.size - 8 + c] for c in range(8)]
    assert int("".join("1" if b else "0" for b in copy), 2) ^ FORMAT_MASK == information


def test_a_br_code_fits_a_small_symbol() -> None:
    # Numeric and alphanumeric stretches in their own modes: version 8, where byte mode alone
    # needs version 9.
    assert qr_symbol(BR_CODE).size == 49


def test_a_text_too_long_is_refused_without_quoting_it() -> None:
    secret = "maria.silva@example.com " * 200
    with pytest.raises(ValueError, match="no QR code for 4800 characters") as raised:
        qr_symbol(secret)
    assert "maria" not in str(raised.value)


def test_threads_encoding_at_once_get_what_one_thread_gets() -> None:
    # The boleto service renders PDFs on a thread pool; zint must keep nothing between calls.
    texts = [BR_CODE.replace("1234567000000004", f"{n:016d}") for n in range(300)]
    alone = [qr_symbol(text) for text in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(qr_symbol, texts)) == alone
    assert len({repr(symbol.runs) for symbol in alone}) == len(texts)  # all different
