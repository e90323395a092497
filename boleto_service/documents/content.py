"""Writing PDF content-stream operators (ISO 32000-1, sections 8 and 9).

Only what a boleto needs: filled rectangles, stroked lines and single lines of text.
"""

from __future__ import annotations

from .text import Font, encode, escape, fit


def num(value: float) -> bytes:
    """A PDF number with one decimal at most: 12.53 -> b'12.5', 12.0 -> b'12'.

    A tenth of a point (0.035 mm) is finer than any printer places a line or a glyph, and
    shorter numbers make smaller files.
    """
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return b"0" if text in ("", "-0") else text.encode("ascii")


def text_at(
    raw: bytes, font: Font, size: float, x: float, y: float, align: str, max_width: float
) -> bytes:
    """One line of text inside a BT/ET block; `x` is the left, centre or right edge."""
    shown, used = fit(raw, font, size, max_width)
    if align == "right":
        x -= used
    elif align == "center":
        x -= used / 2
    return b"/%s %s Tf 1 0 0 1 %s %s Tm (%s) Tj\n" % (
        font.resource.encode(),
        num(size),
        num(x),
        num(y),
        escape(shown),
    )


class ContentWriter:
    """Accumulates operators; `bytes()` gives the stream body."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, operators: bytes) -> None:
        self._parts.append(operators)

    def line_width(self, width: float) -> None:
        self._parts.append(b"%s w\n" % num(width))

    def dash(self, on: float, off: float) -> None:
        self._parts.append(b"[%s %s] 0 d\n" % (num(on), num(off)))

    def solid(self) -> None:
        self._parts.append(b"[] 0 d\n")

    def gray_fill(self, level: float) -> None:
        # Gray levels run 0..1, so they need more than the one decimal of coordinates.
        self._parts.append(b"%s g\n" % f"{level:.2f}".rstrip("0").rstrip(".").encode("ascii"))

    def fill_rect(self, x: float, y: float, w: float, h: float) -> None:
        self._parts.append(b"%s %s %s %s re f\n" % (num(x), num(y), num(w), num(h)))

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self._parts.append(b"%s %s m %s %s l S\n" % (num(x1), num(y1), num(x2), num(y2)))

    def begin_text(self) -> None:
        self._parts.append(b"BT\n")

    def end_text(self) -> None:
        self._parts.append(b"ET\n")

    def text(
        self,
        text: str,
        font: Font,
        size: float,
        x: float,
        y: float,
        align: str = "left",
        max_width: float = float("inf"),
    ) -> None:
        """One line of text; only between begin_text and end_text."""
        self._parts.append(text_at(encode(text), font, size, x, y, align, max_width))

    def __bytes__(self) -> bytes:
        return b"".join(self._parts)
