"""Text for the base-14 fonts: WinAnsi encoding, PDF string escaping and advance widths.

Helvetica and Helvetica-Bold are built into every PDF reader, so the file embeds no font
program; the price is WinAnsiEncoding, which covers Portuguese but not every script a name
may arrive in. Characters outside it print as '?' rather than failing the boleto.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from reportlab.pdfbase import pdfmetrics

from boletos.platform.text import ACTED_ON, CONTROLS, DIRECTION_MARKS, char_class, code_points

_ELLIPSIS = b"\x85"  # '…' in WinAnsiEncoding
# Controls would be taken as line breaks or garbage by viewers; direction marks would print
# as '?'.
_PRINTABLE = str.maketrans(
    {**dict.fromkeys(code_points(CONTROLS), " "), **dict.fromkeys(code_points(DIRECTION_MARKS))}
)
# Searched first: a translation by table looks every character up, and almost no text has any.
_UNPRINTABLE = re.compile(f"[{char_class(ACTED_ON)}]")


class Font(Enum):
    """The two fonts the page uses, with their resource names in the page dictionary."""

    REGULAR = ("F1", "Helvetica")
    BOLD = ("F2", "Helvetica-Bold")

    def __init__(self, resource: str, base_font: str) -> None:
        self.resource = resource
        self.base_font = base_font
        # reportlab's AFM metrics for the standard fonts, indexed by WinAnsi byte, in 1/1000 em.
        self.widths: tuple[int, ...] = tuple(pdfmetrics.getFont(base_font).widths)
        # The same widths split into high and low bytes, for bytes.translate: a text's width
        # is then two translations and two sums, without a Python call per character.
        every_byte = bytes(range(256))
        self.high_widths = bytes.maketrans(every_byte, bytes(w >> 8 for w in self.widths))
        self.low_widths = bytes.maketrans(every_byte, bytes(w & 0xFF for w in self.widths))


def encode(text: str) -> bytes:
    """The WinAnsi bytes that print `text`, unescaped."""
    if text.isascii() and text.isprintable():
        return text.encode("ascii")
    if not text.isascii():
        # Decomposed accents (e + U+0301) have no WinAnsi code of their own.
        text = unicodedata.normalize("NFC", text)
    if _UNPRINTABLE.search(text):
        text = text.translate(_PRINTABLE)
    return text.encode("cp1252", "replace")


def width(raw: bytes, font: Font, size: float) -> float:
    """Advance width in points of WinAnsi bytes set in `font` at `size`."""
    thousandths = (sum(raw.translate(font.high_widths)) << 8) + sum(raw.translate(font.low_widths))
    return thousandths * size / 1000


def fit(raw: bytes, font: Font, size: float, max_width: float) -> tuple[bytes, float]:
    """The bytes cut to `max_width` (ending in an ellipsis when cut) and their width."""
    used = width(raw, font, size)
    if used <= max_width:
        return raw, used
    widths = font.widths
    budget = max_width * 1000 / size - widths[_ELLIPSIS[0]]
    total = 0
    for index, byte in enumerate(raw):
        total += widths[byte]
        if total > budget:
            cut = raw[:index].rstrip() + _ELLIPSIS
            return cut, width(cut, font, size)
    return raw, used  # unreachable: the full text was wider than the budget


def escape(raw: bytes) -> bytes:
    """Bytes safe inside a PDF literal string '( ... )'."""
    if b"\\" in raw:
        raw = raw.replace(b"\\", b"\\\\")
    if b"(" in raw or b")" in raw:
        raw = raw.replace(b"(", b"\\(").replace(b")", b"\\)")
    return raw
