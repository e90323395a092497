"""The PDF file around the page's content stream (ISO 32000-1, section 7).

Catalog, page tree and page are the same for every boleto, so those bytes and their
cross-reference entries are built once. The content stream is the static drawing followed by
the document's own operators, compressed as one: the static part's deflate output and
compressor state are kept, and each document only continues a copy of that state. Sharing
the window lets the document's operators refer back to the static text, which keeps files
small.
"""

from __future__ import annotations

import hashlib
import zlib

from .text import Font

HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"  # binary comment: tells transfer tools it is binary
# Level 2 and an 8 KiB window (the static part and a document's operators fit in it, about
# 7.5 KB) and a smaller hash: the compressor state each document copies is a quarter of zlib's
# default, and a document's deflate takes half the time, for files about 7% larger.
COMPRESSION_LEVEL = 2
WINDOW_BITS = 13
MEMORY_LEVEL = 6

# Object numbers. The content stream must stay last: nothing after it moves.
CATALOG, PAGES, PAGE, CONTENT = range(1, 5)
OBJECT_COUNT = CONTENT + 1  # object 0 heads the free list


def _font(font: Font) -> bytes:
    return b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % (
        font.base_font.encode()
    )


def _num(value: float) -> bytes:
    return f"{value:.2f}".rstrip("0").rstrip(".").encode("ascii")


class PdfFileTemplate:
    """One-page PDF files that differ only in what follows a fixed start of the content."""

    def __init__(self, width: float, height: float, static_content: bytes) -> None:
        fonts = b" ".join(b"/%s %s" % (font.resource.encode(), _font(font)) for font in Font)
        page = (
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] "
            b"/Resources << /Font << %s >> >> /Contents %d 0 R >>"
            % (PAGES, _num(width), _num(height), fonts, CONTENT)
        )
        bodies = {
            CATALOG: b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES,
            PAGES: b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % PAGE,
            PAGE: page,
        }
        parts = [HEADER]
        offsets = []
        position = len(HEADER)
        for number in range(1, CONTENT):
            offsets.append(position)
            obj = b"%d 0 obj\n%s\nendobj\n" % (number, bodies[number])
            parts.append(obj)
            position += len(obj)
        offsets.append(position)  # the content stream starts where the shared part ends
        self._prefix = b"".join(parts)
        # Each entry is exactly 20 bytes, the end-of-line included, as the format requires.
        entries = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % at for at in offsets]
        self._xref = b"xref\n0 %d\n%s" % (OBJECT_COUNT, b"".join(entries))
        self._trailer_head = b"trailer\n<< /Size %d /Root %d 0 R /ID [<" % (OBJECT_COUNT, CATALOG)
        self._compressor = zlib.compressobj(
            COMPRESSION_LEVEL, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL
        )
        # A sync flush ends the static part on a byte boundary and keeps the window.
        self._static_deflate = self._compressor.compress(static_content) + self._compressor.flush(
            zlib.Z_SYNC_FLUSH
        )

    def build(self, variable_content: bytes) -> bytes:
        """The whole file for a page whose content continues with `variable_content`."""
        compressor = self._compressor.copy()
        tail = compressor.compress(variable_content) + compressor.flush()
        # The file identifier depends only on the content, so equal documents stay equal files.
        ident = hashlib.blake2b(variable_content, digest_size=16).hexdigest().encode()
        length = len(self._static_deflate) + len(tail)
        stream_head = b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (
            CONTENT,
            length,
        )
        stream_end = b"\nendstream\nendobj\n"
        xref_at = len(self._prefix) + len(stream_head) + length + len(stream_end)
        return b"".join(
            (
                self._prefix,
                stream_head,
                self._static_deflate,
                tail,
                stream_end,
                self._xref,
                self._trailer_head,
                ident,
                b"><",
                ident,
                b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref_at,
            )
        )
