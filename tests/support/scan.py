"""A printer and a scanner for tests: pdftoppm rasterizes a PDF, zbarimg reads its barcode.

Without the tools, tests skip, except in CI, where they fail: there the tools are part of
the setup (make system-deps).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.tools import require_tool


def rasterize(pdf: bytes, directory: Path, dpi: int) -> Path:
    source = directory / "boleto.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [
            require_tool("pdftoppm"),
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            str(source),
            str(directory / "page"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # poppler reports damaged files on stderr and renders anyway
    return directory / "page.png"


def scan(image: Path) -> list[str]:
    """Every Interleaved 2 of 5 symbol zbar finds in the image, as raw text."""
    return _zbar(image, "i25").split()


def scan_qr(image: Path) -> list[str]:
    """Every QR code zbar finds in the image, as text (one per line)."""
    return _zbar(image, "qrcode").splitlines()


def _zbar(image: Path, symbology: str) -> str:
    result = subprocess.run(
        # Only that symbology enabled: nothing else on the page may be mistaken for a symbol.
        [require_tool("zbarimg"), "--raw", "-q", "-Sdisable", f"-S{symbology}.enable", str(image)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"no {symbology} symbol found ({result.returncode}): {result.stderr}"
    )
    return result.stdout
